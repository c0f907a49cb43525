package domain

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/salesbot/salesbot/domain/words"
)

// Guards are rules enforced in code on every dialog turn, whatever a model
// says: a lead's opt-out, a question whether the assistant is a bot,
// prices or discounts that are not in the knowledge base (in digits or in
// words), contact points the scenario does not state, and requests for a
// lead's secrets (card, codes, password, passport). They are
// deliberately conservative: a false opt-out only ends a dialog politely,
// a missed one would write to someone who said stop.

// optOutPhrases end a dialog wherever they stand in a message.
var optOutPhrases = []string{
	// Russian
	"не пишите мне", "не пиши мне", "больше не пишите", "больше не пиши", "не пишите больше", "не пиши больше",
	"отпишитесь", "отпишите меня", "отписаться от", "удалите мой номер", "удалите меня", "уберите меня",
	"не беспокойте", "не беспокой меня", "отстаньте", "отвали", "не звоните и не пишите", "прекратите писать",
	"перестаньте писать", "хватит писать", "хватит мне писать", "не хочу получать", "не присылайте",
	// English
	"unsubscribe", "stop messaging", "stop writing", "stop texting", "stop contacting", "stop sending",
	"don't message me", "dont message me", "do not message me", "don't contact me", "dont contact me",
	"do not contact me", "don't write to me", "do not write to me", "dont write to me", "leave me alone",
	"remove me from", "take me off", "opt me out", "opt out", "opt-out", "no more messages",
	"stop spamming", "stop spamming me", "don't text me", "dont text me", "do not text me", "don't message me again",
	"хватит спамить", "не спамьте", "прекратите спам", "не пишите сюда", "не надо мне писать", "не надо писать",
	// Russian, polite and indirect
	"больше не беспокойте", "не беспокойте больше", "прошу не беспокоить", "просьба не беспокоить", "прошу меня не беспокоить",
	"не надо меня беспокоить", "не нужно меня беспокоить", "не тревожьте", "не тревожьте меня",
	"удалите меня из базы", "удалите из базы", "удалите мои данные", "удалите мой контакт", "удалите мой телефон",
	"прошу удалить мой номер", "прошу удалить меня", "прошу удалить мои данные", "удалить меня из базы",
	"уберите меня из базы", "уберите из рассылки", "уберите меня из рассылки", "исключите меня", "исключите из рассылки",
	"вычеркните меня", "прошу исключить", "забудьте мой номер", "забудьте этот номер",
	"не хочу получать сообщения", "не хочу больше получать", "не желаю получать", "больше не присылайте",
	"не присылайте больше", "не присылайте мне", "не присылай", "не отправляйте мне", "больше не отправляйте",
	"не надо больше писать", "больше не надо писать", "не нужно мне писать", "не нужно больше писать",
	"прекратите мне писать", "прекратите рассылку", "прекратите присылать", "прекратите мне присылать",
	"перестаньте мне писать", "перестаньте присылать", "перестаньте мне присылать", "хватит присылать", "хватит слать",
	"хватит мне присылать", "не звоните мне", "не звоните больше", "больше не звоните",
	"хочу отписаться", "отпишите меня от рассылки", "отпишите", "не пишите сюда больше", "прошу больше не писать",
	"прошу не писать", "просьба не писать", "просьба больше не писать", "не спамьте мне", "прекратите спамить",
	"хватит спама", "мне не пишите", "мне больше не пишите", "мне не надо писать", "не пишите на этот номер",
	"не пиши сюда", "отстань", "отстаньте от меня", "оставьте меня в покое", "оставь меня в покое",
	"не хочу с вами общаться", "не хочу общаться", "не хочу переписываться", "не пишите мне никогда",
	"не пишите никогда", "никогда не пишите", "не присылайте сообщения", "прекратите со мной связываться",
	"не связывайтесь со мной", "не связывайтесь больше", "больше не связывайтесь",
	// English, polite and indirect
	"please don't disturb me", "don't disturb me", "do not disturb me", "dont disturb me", "stop bothering me",
	"quit bothering me", "stop bugging me", "stop contacting me", "remove me from your database", "delete my number",
	"delete my contact", "delete my data", "delete me from", "erase my data", "erase my number", "unsubscribe me",
	"don't email me", "do not email me", "stop emailing", "don't call me", "do not call me", "stop calling",
	"never contact me", "never message me", "never write to me", "don't ever contact me", "don't ever message me",
	"don't reach out", "do not reach out", "stop reaching out", "no more texts", "no more emails", "no further messages",
	"no further contact", "cease contact", "cease and desist", "i want to opt out", "i'd like to opt out", "lose my number",
	"go away", "get lost", "buzz off", "fuck off", "piss off", "leave me be", "stop the messages", "stop these messages",
	"stop this spam", "i don't want any more messages", "i don't want to receive", "i do not want to receive",
	"don't want to hear from you", "do not want to hear from you", "don't send me any more", "don't send me messages",
	"do not send me messages", "quit messaging", "quit texting", "quit writing", "quit contacting", "please stop writing",
	"please stop messaging", "please stop contacting", "stop writing to me", "stop messaging me", "not interested stop",
	"take my number off", "take me off your list", "remove my number", "remove my contact", "remove my details",
	"don't contact me again", "do not contact me again", "never again contact", "stop sending me",
	// No consent given, or taken back
	"не давал согласия", "не давала согласия", "не давал согласие", "не давала согласие", "без моего согласия",
	"не подписывался", "не подписывалась", "не давал вам свой номер", "не давала вам свой номер",
	"отзываю согласие", "отзываю свое согласие", "отказываюсь от рассылки", "отказываюсь от сообщений",
	"не согласен на рассылку", "не согласна на рассылку", "против рассылки",
	"i never signed up", "never signed up for", "i didn't sign up", "i did not sign up", "i never subscribed",
	"i didn't subscribe", "i did not subscribe", "i withdraw my consent", "withdraw my consent", "i did not consent",
	"i never consented", "i didn't consent",
	// Russian, more polite and roundabout
	"сообщения мне не нужны", "ваши сообщения мне не", "не нужны ваши сообщения", "не нужна ваша рассылка",
	"мне не нужна ваша рассылка", "мне не писать", "больше мне не писать", "прошу мне не писать",
	"не надо мне больше писать", "больше не надо мне писать", "не стоит мне писать", "не стоит больше писать",
	"если бы вы не писали", "если вы не будете писать", "если больше не будете писать", "не могли бы вы не писать",
	"не могли бы вы больше не писать", "если перестанете писать", "если перестанете мне писать",
	"если прекратите писать", "не присылайте мне больше ничего", "исключите мой номер", "не используйте мой номер",
	"еще раз напишете", "напишете еще раз", "если еще напишете",
	// English, more polite and roundabout
	"i'd appreciate it if you stopped", "if you could stop messaging", "if you could stop writing",
	"please refrain from contacting", "refrain from contacting", "refrain from messaging", "kindly stop",
	"kindly remove me", "please don't write again", "don't write again", "do not write again",
	"don't need your messages", "i don't want your messages",
	"удалите его", "удалите их", "уберите мой номер", "удалите мои контакты", "прекратите слать", "перестаньте слать",
}

// optOutOpen are phrases whose verb takes an object, so they are an
// opt-out only when what follows is the lead, the messages or nothing
// (optOutObjects): "stop writing to me" yes, "stop writing reports by
// hand" no; "unsubscribe me" yes, "unsubscribe links" no.
var optOutOpen = map[string]bool{
	"unsubscribe": true, "opt out": true, "opt-out": true, "stop messaging": true, "stop writing": true,
	"stop texting": true, "stop contacting": true, "stop sending": true, "stop emailing": true, "stop calling": true,
	"quit messaging": true, "quit texting": true, "quit writing": true, "quit contacting": true,
	"прекратите писать": true, "перестаньте писать": true, "хватит писать": true, "хватит присылать": true,
	"хватит слать": true, "прекратите присылать": true, "перестаньте присылать": true, "не хочу получать": true,
	"не присылайте": true, "не присылай": true,
}

// optOutObjects may follow an optOutOpen phrase (the next word).
var optOutObjects = map[string]bool{
	"": true, "me": true, "us": true, "to": true, "here": true, "now": true, "already": true, "anymore": true,
	"any": true, "these": true, "this": true, "those": true, "messages": true, "message": true, "emails": true,
	"texts": true, "spam": true, "please": true, "pls": true, "from": true, "of": true, "immediately": true,
	"again": true, "ok": true, "thanks": true, "thank": true, "stuff": true, "it": true, "your": true,
	"мне": true, "нам": true, "сюда": true, "больше": true, "уже": true, "пожалуйста": true, "сообщения": true,
	"сообщений": true, "спам": true, "рассылку": true, "рассылки": true, "эти": true, "это": true, "ничего": true,
	"письма": true, "смс": true, "уведомления": true, "вашу": true, "ваши": true, "ваших": true, "от": true,
	"и": true, "так": true, "никогда": true, "ну": true, "вы": true, "их": true, "свои": true, "свою": true,
	"немедленно": true, "срочно": true, "спасибо": true, "меня": true, "всякую": true, "всякие": true, "вашей": true,
	"эту": true, "рекламу": true, "ваш": true, "твою": true, "твои": true,
}

// thirdParty: a question whose phrase has someone else as its subject
// ("Как сотруднику отписаться от рассылки?", "Can leads unsubscribe from
// the reminders?") asks about the product, not for a stop.
var thirdParty = regexp.MustCompile(`(?:^| )(?:сотрудник\S*|клиент\S*|пользовател\S*|подписчик\S*|лид\S*|коллег\S*|менеджер\S*|` +
	`employees?|users?|leads?|clients?|customers?|subscribers?|colleagues?|members?|managers?|recipients?|people)(?: \S+){0,2} $`)

// postponed: after an opt-out phrase, a time bound makes it a request to
// write later, not a stop ("не пишите мне до понедельника", "don't text
// me before 10", "не звоните сейчас, я за рулём"). Such a lead asked to
// be written to again, so the do-not-contact list (which is for good)
// would go against their words; the model answers, and with an LLM its
// opt_out flag still decides a doubtful case.
var postponed = regexp.MustCompile(`^(?:\S+ ){0,2}(?:до (?:понедельника|вторника|среды|четверга|пятницы|субботы|воскресенья|завтра|вечера|утра|обеда|конца|следующ\S*|выходных|праздников|отпуска|\d+|[а-я]+ря|марта|мая|июня|июля|августа|после)|пока(?: \S+)? (?:не|я)|пока$|сейчас(?: (?:не|я|занят|занята|за|на|в)|$)|сегодня|завтра|ночью|по ночам|вечером|утром|так рано|так поздно|в выходные|по выходным|в праздники|в нерабочее|на этой неделе|на выходных|в ближайш\S*|временно|в рабочее время|until|till|before|today|tonight|tomorrow|this week|this month|for now|for a while|at the moment|at night|on weekends|on the weekend|during|after \d|after work|after hours|so early|so late)(?: |$)`)

// redirect: a lead who asks to be written elsewhere ("не пишите мне в
// почту, пишите сюда", "don't call, text me instead") has not opted out;
// the phrase must not be negated itself ("не пишите сюда" is a stop).
var redirect = []string{"пишите сюда", "пишите лучше", "лучше пишите", "лучше напишите", "пишите в", "пишите на",
	"напишите в", "напишите на", "лучше в", "лучше на", "write here", "text me", "message me on", "message me at",
	"message me here", "email me", "write to me on", "write me on", "me instead"}

// negators before a redirect undo it.
var negators = map[string]bool{"не": true, "don't": true, "dont": true, "not": true, "never": true, "no": true}

// notNegated says whether phrase stands in padded (" "+normalised+" ")
// at least once without a negator just before it.
func notNegated(padded, phrase string) bool {
	p := " " + phrase + " "
	for i := 0; ; {
		j := strings.Index(padded[i:], p)
		if j < 0 {
			return false
		}
		before := strings.Fields(padded[:i+j])
		if len(before) == 0 || !negators[before[len(before)-1]] {
			return true
		}
		i += j + 1
	}
}

// lastClause is the normalised words after the last comma, dash or
// sentence end of text: "Я не давал согласия на рассылку, не пишите"
// ends with a stop as plain as a message of its own.
func lastClause(text string) string {
	parts := strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(",;:.!?—–…\n()", r) })
	for i := len(parts) - 1; i >= 0; i-- {
		if n := normalize(parts[i]); n != "" {
			return n
		}
	}
	return ""
}

// optOutWords end a dialog only as the whole message ("Stop." yes; "stop
// by our office" or "стоп, а сколько стоит?" no).
var optOutWords = map[string]bool{
	"stop": true, "стоп": true, "хватит": true, "отписка": true, "unsubscribe": true, "stop please": true,
	"please stop": true, "pls stop": true, "стоп пожалуйста": true, "пожалуйста стоп": true, "хватит пожалуйста": true,
	"отпишись": true, "stop it": true, "enough": true, "довольно": true,
	"не пишите": true, "не пиши": true, "не пишите пожалуйста": true, "пожалуйста не пишите": true,
	"пожалуйста не пишите больше": true, "no more": true, "stop writing": true, "stop now": true,
	"stop stop": true, "стоп стоп": true, "хватит уже": true, "enough already": true, "отписаться": true,
	"удалите": true, "удалите меня": true, "please remove me": true, "remove me": true,
}

// IsOptOut says whether a lead's message asks not to be written to again.
func IsOptOut(text string) bool {
	n := normalize(text)
	if n == "" {
		return false
	}
	if optOutWords[n] || optOutWords[lastClause(text)] {
		return true
	}
	padded, question := " "+n+" ", strings.Contains(text, "?")
	for _, r := range redirect {
		if notNegated(padded, r) {
			return false
		}
	}
	for _, p := range optOutPhrases {
		for i := 0; ; {
			j := strings.Index(padded[i:], " "+p+" ")
			if j < 0 {
				break
			}
			after := strings.TrimSpace(padded[i+j+len(p)+1:])
			before := padded[:i+j+1]
			i += j + 1
			if question && thirdParty.MatchString(before) {
				continue
			}
			if postponed.MatchString(after) {
				continue
			}
			if next, _, _ := strings.Cut(after, " "); optOutOpen[p] && !optOutObjects[next] {
				continue
			}
			return true
		}
	}
	return false
}

// botQuestions ask whether the assistant is a machine.
var botQuestions = []string{
	"ты бот", "вы бот", "это бот", "ты робот", "вы робот", "ты человек", "вы человек", "живой человек",
	"ты ии", "вы ии", "ты ai", "вы ai", "нейросеть", "chatgpt", "чат бот", "чатбот",
	"are you a bot", "are you a robot", "are you human", "are you a human", "are you a real person",
	"is this a bot", "is this an ai", "are you an ai", "are you ai", "am i talking to a bot", "talking to a human",
	"are you real", "is this automated", "a real person",
	"are you a person", "are you a human being", "is this a human", "is this a person", "is this a real person",
	"am i chatting with a bot", "chatting with a bot", "talking to a bot", "am i talking to a human", "are you a machine",
	"вы живой", "ты живой", "вы реальный человек", "это человек", "это робот", "говорю с ботом", "с ботом общаюсь",
	"это ии", "это нейросеть", "вы робот или человек", "вы программа",
}

// AsksIfBot says whether a lead asks if the assistant is a bot or a
// person; the answer must be that it is the company's AI assistant.
func AsksIfBot(text string) bool {
	padded := " " + normalize(text) + " "
	for _, q := range botQuestions {
		if strings.Contains(padded, " "+q+" ") {
			return true
		}
	}
	return false
}

// normalize is words.Normalize: lowercase, ё and apostrophes folded,
// punctuation (hyphens too) turned into single spaces.
func normalize(s string) string { return words.Normalize(s) }

// Figures returns the normalised numbers of every amount in text (money
// or percent), such as "1500" for "1 500 ₽" or "$1,500" (words.Figures
// has their units).
func Figures(text string) []string {
	var out []string
	for _, f := range words.Figures(text) {
		out = append(out, f.Num)
	}
	return out
}

// UngroundedFigures returns the amounts in a reply that the knowledge base
// does not state, with their units ("90%", "1200 rub"): a reply with any
// must not be sent (the lead goes to a person), so the assistant never
// invents a price or a discount.
func UngroundedFigures(reply, knowledge string) []string {
	var out []string
	for _, f := range words.Ungrounded(reply, knowledge) {
		out = append(out, f.String())
	}
	return out
}

// UnstatedContacts returns the contact points in a reply (URLs, domains,
// e-mail addresses, phone numbers, @usernames, in words.ContactPoints'
// normal form) that stated (the knowledge base and the scenario's own
// texts) does not state: a reply with any must not be sent, so a model
// never sends a lead to a payment page or a number the company never
// named.
func UnstatedContacts(reply, stated string) []string { return words.UnstatedContacts(reply, stated) }

// AsksForSecret returns what a reply asks the lead for that an assistant
// never asks for ("card number", "CVV", "SMS or login code", "password",
// "passport data"; RU and EN phrasings), or "": a reply that asks must not
// be sent. A mention that is no request ("we never ask for your
// password") passes.
func AsksForSecret(reply string) string { return words.AsksForSecret(reply) }

// ContainsPhrase returns the first of phrases that stands in text as whole
// words (case, punctuation and ё folded), or "". A phrase word of four
// letters or more also matches the words it begins ("менеджер" matches
// "менеджера", "contract" matches "contracts"), so inflected forms count.
func ContainsPhrase(text string, phrases []string) string {
	words := strings.Fields(normalize(text))
	for _, p := range phrases {
		pw := strings.Fields(normalize(p))
		if len(pw) == 0 {
			continue
		}
		for i := 0; i+len(pw) <= len(words); i++ {
			if wordsMatch(words[i:i+len(pw)], pw) {
				return p
			}
		}
	}
	return ""
}

func wordsMatch(words, phrase []string) bool {
	for j, p := range phrase {
		if words[j] != p && (len([]rune(p)) < 4 || !strings.HasPrefix(words[j], p)) {
			return false
		}
	}
	return true
}

// ClaimsHuman says whether a reply claims the assistant is a person.
func ClaimsHuman(reply string) bool { return words.ClaimsHuman(reply) }

// containsExact says whether one of phrases stands in text as whole words.
func containsExact(text string, phrases []string) bool { return words.HasPhrase(text, phrases) }

// disclosures are words by which a reply says it comes from an AI.
var disclosures = []string{
	"ai assistant", "ai-assistant", "i am an ai", "i'm an ai", "i am a bot", "i'm a bot", "virtual assistant", "chatbot", "chat bot",
	"ии-ассистент", "ии ассистент", "ai-ассистент", "я ии", "я бот", "я чат-бот", "искусственный интеллект", "виртуальный ассистент", "нейросеть",
}

// Discloses says whether a reply says it comes from an AI assistant.
func Discloses(reply string) bool { return !ClaimsHuman(reply) && containsExact(reply, disclosures) }

// DetectLanguage returns "ru" when the texts are mostly Cyrillic, "en"
// when mostly Latin, and def when they have no letters.
func DetectLanguage(def string, texts ...string) string {
	var cyr, lat int
	for _, t := range texts {
		for _, r := range t {
			switch {
			case unicode.Is(unicode.Cyrillic, r):
				cyr++
			case unicode.Is(unicode.Latin, r):
				lat++
			}
		}
	}
	switch {
	case cyr == 0 && lat == 0:
		return def
	case cyr >= lat:
		return "ru"
	}
	return "en"
}
