package words

import (
	"regexp"
	"strings"
)

// secrets are what an assistant never asks a lead for, each with the
// patterns (over Normalize'd text padded with spaces) that name it.
//
// A secret's bare patterns name it in a way no sales reply has a reason
// to, so the mention alone counts as asking ("номер карты и CVV, и бронь
// ваша"; "CVV on the back"; "the code from the SMS"), unless the clause
// is a warning or a refusal (notAsking); its other patterns need a
// request in the same clause (askCues or a question mark), since "bank
// card", "password" or "passport" also come up in answers ("you can pay
// by bank card", "passwords are stored hashed").
var secrets = []struct {
	Kind string
	re   *regexp.Regexp
	bare *regexp.Regexp
}{
	{"card number", regexp.MustCompile(` (?:card (?:number|details|data|info|no)|(?:credit|debit|bank) card|numbers? (?:on|of) (?:your |the )?card|expiry date|expiration date|номер\p{L}* (?:(?:вашей|твоей|своей|банковской|кредитной|дебетовой) )*карт|данн\p{L}* (?:(?:вашей|твоей|своей|банковской) )*карт|реквизит\p{L}* (?:(?:вашей|твоей|своей|банковской) )*карт|срок\p{L}* действия (?:\p{L}+ )?карт|цифры (?:\p{L}+ )?карт)`),
		regexp.MustCompile(` (?:card (?:number|details|data)|номер\p{L}* (?:(?:вашей|твоей|своей|банковской|кредитной|дебетовой) )*карт|данн\p{L}* (?:(?:вашей|твоей|своей|банковской) )*карты|реквизит\p{L}* (?:(?:вашей|твоей|своей|банковской) )*карты|цифр\p{L}* (?:\p{L}+ )?карт|(?:\d+ )?digits (?:on|of) (?:your |the )?card|(?:photo|picture|scan|image) of (?:your |the )?(?:bank |credit |debit )?card|card front and back|both sides of (?:your |the )?card|фото\p{L}* (?:\p{L}+ ){0,2}карты|обе стороны карты|(?:лицев|оборотн)\p{L}* сторон\p{L}* карты)`)},
	{"CVV", regexp.MustCompile(` (?:cvv2?|cvc2?|cvn|security code|код безопасности|(?:три|3) цифры (?:на|с) (?:обороте|обратной))`),
		regexp.MustCompile(` (?:cvv2?|cvc2?|cvn|(?:code|digits|number) on the back|код\p{L}* (?:на|с) (?:обороте|обратной сторон\p{L}*)|(?:на|с) обратной стороны? карты|(?:three|3) digit (?:code|number)|трехзначн\p{L}* код|(?:три|3) цифры (?:на|с) (?:обороте|обратной))(?: |$)`)},
	{"SMS or login code", regexp.MustCompile(` (?:(?:sms|смс)\p{L}* ?(?:\p{L}+ ){0,2}(?:code|код\p{L}*)|(?:codes?|код\p{L}*) (?:\p{L}+ ){0,3}(?:sms|смс|text|message|сообщени|банк|bank)|(?:verification|confirmation|login|sign in|access|security|auth|authentication|authorization|2fa|one time|bank) (?:code|pin)|otp|код\p{L}* (?:подтверждени|для входа|доступа|авторизаци)|одноразов\p{L}* (?:код|пароль)|проверочн\p{L}* код|код\p{L}* (?:\p{L}+ ){0,3}(?:пришел|пришла|пришедш\p{L}*|придет|получили|получите|отправили|отправим|пришлем)|(?:придет|пришел|пришлем|отправим|отправили) (?:\p{L}+ ){0,3}код|codes? (?:\p{L}+ ){0,3}(?:you (?:just )?received|you (?:just )?got|you'll get|you will get|we sent|we just sent|just sent|sent to your phone|we texted)|verification (?:text|sms|message)|one time (?:code|password|pin))`),
		regexp.MustCompile(` (?:(?:sms|смс)\p{L}* ?(?:\p{L}+ ){0,2}(?:code|код|кода|коду|кодом)|(?:code|код|кода) (?:\p{L}+ ){0,3}(?:sms|смс|text message))(?: |$)`)},
	{"password", regexp.MustCompile(` (?:passwords?|passcodes?|pin|pin code|пароль|пароля|паролем|пароли|пин|пин код\p{L}*|пинкод\p{L}*)(?: |$)`),
		regexp.MustCompile(` (?:(?:your|the) (?:login|account|email|bank) password|login and password|username and password|login details|login credentials|(?:your|the|account) credentials|(?:ваш|твой|свой) пароль|пароль от|логин и пароль|учетн\p{L}* данн|данные для входа)(?: |$)`)},
	{"passport data", regexp.MustCompile(` (?:passport|паспорт\p{L}*|id card|id document|удостоверени\p{L}* личности|водительск\p{L}* (?:прав\p{L}*|удостоверени\p{L}*))(?: |$)`),
		regexp.MustCompile(` (?:passport (?:number|details|data|scan|photo|copy)|(?:scan|photo|copy|picture) of (?:your |the )?(?:passport|id)|(?:front and back|both sides) of (?:your |the )?id|паспортн\p{L}* данн\p{L}*|(?:серия и )?номер паспорта|(?:скан|фото|копи)\p{L}* (?:\p{L}+ )?паспорта|снилс|инн физлица)(?: |$)`)},
}

// askCues make a clause that names a secret a request for it.
var askCues = regexp.MustCompile(` (?:send|give|tell|share|provide|enter|type|forward|read|dictate|confirm|need|needs|require|what's|whats|what is|what s|reply with|let me know|write|text|post|paste|upload|attach|verify|` +
	`пришлите|пришли|присылайте|отправьте|отправь|отправляйте|скажите|скажи|назовите|назови|продиктуйте|продиктуй|диктуйте|сообщите|сообщи|укажите|укажи|напишите|напиши|введите|введи|дайте|дай|скиньте|скинь|перешлите|перешли|подтвердите|подтверди|уточните|какой|какая|какие|каков|нужен|нужна|нужны|нужно|потребуется|понадобится|требуется|продиктовать|прислать|отправить|сообщить|назвать|указать|ввести|написать|скинуть|прикрепите|загрузите|сфотографируйте|пришлете|пришлешь|отправите|скажете|назовете|продиктуете|сообщите)(?: |$)`)

// notAsking mark a clause that names a secret without asking for it: a
// warning, a refusal, a reset.
var notAsking = regexp.MustCompile(` (?:never|nobody|no one|anyone|no need|not required|reset|forgot|forgotten|` +
	`(?:don't|dont|do not|doesn't|does not|won't|wont|will not|shouldn't|should not|must not) (?:\p{L}+ )?(?:share|give|send|tell|enter|type|forward|post|disclose|need|require|ask|request)|` +
	`no (?:credit |bank |debit )?card|without (?:a |your |any )?(?:\p{L}+ )?card|not (?:needed|required|necessary)|change (?:your |the )?password|` +
	`никогда|никому|никто|сбросить|сбросьте|восстановить|восстановите|сменить|смените|забыли|без (?:\p{L}+ ){0,2}карт\p{L}*|не (?:\p{L}+ )?(?:сообщим|попросим|спросим|понадобится)|` +
	`не (?:\p{L}+ )?(?:сообщайте|сообщай|передавайте|передавай|называйте|называй|отправляйте|пересылайте|вводите|говорите|диктуйте|присылайте|просим|попросим|запрашиваем|спрашиваем|храним|нужен|нужна|нужно|нужны|требуется|надо|понадобится|потребуется))(?: |$)`)

// clauses splits a text where a request could start anew.
var clauses = regexp.MustCompile(`[.!;\n]+| (?:but|so|and then|но|а|поэтому|тогда) `)

// AsksForSecret returns what text asks the reader for that an assistant
// must never ask a lead for ("card number", "CVV", "SMS or login code",
// "password", "passport data"), or "" if nothing. A clause asks when it
// names a secret with a request ("send", "продиктуйте", "what's", a
// question mark) and without a negation ("we never ask for your
// password", "никому не сообщайте код из смс" pass).
func AsksForSecret(text string) string {
	for _, c := range clauses.Split(text, -1) {
		question := strings.Contains(c, "?")
		for _, q := range strings.SplitAfter(c, "?") {
			n := " " + Normalize(q) + " "
			if n == "  " || notAsking.MatchString(n) {
				continue
			}
			for _, s := range secrets {
				if s.bare.MatchString(n) || s.re.MatchString(n) && (question || askCues.MatchString(n)) {
					return s.Kind
				}
			}
		}
	}
	return ""
}
