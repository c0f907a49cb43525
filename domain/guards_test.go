package domain

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestIsOptOut(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"стоп", true},
		{"Стоп!", true},
		{"STOP", true},
		{"Stop.", true},
		{"please stop", true},
		{"Не пишите мне больше", true},
		{"не пиши мне", true},
		{"Пожалуйста, отпишитесь от меня", true},
		{"удалите мой номер из базы", true},
		{"Отстаньте уже", true},
		{"Хватит писать!!!", true},
		{"unsubscribe", true},
		{"Please unsubscribe me", true},
		{"stop messaging me", true},
		{"Don't contact me again", true},
		{"don’t message me", true},
		{"leave me alone", true},
		{"remove me from your list", true},
		{"Не пишите.", true},
		{"Пожалуйста, не пишите", true},
		{"please don't text me anymore", true},
		{"stop spamming me", true},
		{"Хватит спамить!", true},
		{"Пожалуйста, больше меня не беспокойте", true},
		{"удалите меня из вашей базы", true},
		{"Отпишите меня", true},
		{"Я не давал согласия на рассылку, не пишите", true}, // the last clause is a plain stop
		{"Буду признателен, если перестанете мне писать", true},
		{"I never signed up for this, stop", true},
		{"stop writing to me", true},
		// A time bound: write later, not a stop (the do-not-contact list is for good).
		{"не пишите мне до понедельника", false},
		{"Don't message me until Monday", false},
		{"не звоните сейчас, я за рулём", false},
		// Elsewhere, not never.
		{"Не пишите мне в почту, пишите сюда", false},
		{"Не пишите сюда", true},
		// An object that is not the lead or the messages.
		{"We want to stop writing reports by hand", false},
		{"Do you support unsubscribe links in campaigns?", false},
		{"Can leads unsubscribe from the reminders?", false},
		// Not opt-outs: the classic false matches.
		{"Не пишите отчёты вручную — это наш совет?", false},
		{"No more than 10 seats, please", false},
		{"не останавливайтесь", false},
		{"стоп, а сколько стоит?", false},
		{"Stop by our office tomorrow?", false},
		{"stopwatch", false},
		{"Can you stop the trial at any time?", false},
		{"Хватит ли нам тарифа на 10 человек?", false},
		{"I don't want to stop using our CRM", false},
		{"Нам надо, чтобы сотрудники не писали отчёты вручную", false},
		{"", false},
		{"!!!", false},
	} {
		if got := IsOptOut(c.text); got != c.want {
			t.Errorf("IsOptOut(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

// The opt-out tables hold at least 150 phrasings, each once, and each
// phrase is already in normal form (else it could never match).
func TestOptOutTables(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range optOutPhrases {
		if seen[p] {
			t.Errorf("%q is in the phrase table twice", p)
		}
		seen[p] = true
		if normalize(p) != p && normalize(p) != strings.ReplaceAll(p, "-", " ") {
			t.Errorf("phrase %q is not normalised (%q)", p, normalize(p))
		}
	}
	for w := range optOutWords {
		if normalize(w) != w {
			t.Errorf("word %q is not normalised (%q): it never matches", w, normalize(w))
		}
	}
	if n := len(optOutPhrases) + len(optOutWords); n < 150 {
		t.Errorf("the opt-out tables hold %d phrasings, want at least 150", n)
	}
}

// TestOptOutCorpus measures IsOptOut on a labelled corpus of leads'
// messages (testdata/optout.txt) and holds its precision and recall above
// floors; -v prints them and every miss.
func TestOptOutCorpus(t *testing.T) {
	data, err := os.ReadFile("testdata/optout.txt")
	if err != nil {
		t.Fatal(err)
	}
	var tp, fp, fn, pos, neg int
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		label, text, ok := strings.Cut(line, " ")
		if !ok || (label != "+" && label != "-") {
			t.Fatalf("testdata/optout.txt:%d: want \"+ text\" or \"- text\", got %q", i+1, line)
		}
		got := IsOptOut(text)
		switch {
		case label == "+" && got:
			tp++
		case label == "+":
			fn++
			t.Logf("missed opt-out: %q", text)
		case got:
			fp++
			t.Logf("false opt-out: %q", text)
		}
		if label == "+" {
			pos++
		} else {
			neg++
		}
	}
	if pos < 100 || neg < 50 {
		t.Fatalf("the corpus has %d positives and %d negatives, want at least 100 and 50", pos, neg)
	}
	precision, recall := float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
	t.Logf("opt-out on %d positives, %d negatives: precision %.3f, recall %.3f (tp %d, fp %d, fn %d)", pos, neg, precision, recall, tp, fp, fn)
	if precision < 0.98 || recall < 0.95 {
		t.Errorf("precision %.3f (floor 0.98), recall %.3f (floor 0.95)", precision, recall)
	}
}

func TestAsksIfBot(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"Вы бот?", true},
		{"а ты человек или робот", true},
		{"Это бот пишет?", true},
		{"Are you a bot?", true},
		{"is this automated?", true},
		{"am I talking to a bot or a real person", true},
		{"Are you a person?", true},
		{"вы живой?", true},
		{"is this a human?", true},
		{"Am I chatting with a bot?", true},
		{"У вас есть бот для Telegram?", false},
		{"Это человек из отдела продаж напишет?", true},
		{"We use a chatbot vendor already", false},
		{"Human resources need it", false},
	} {
		if got := AsksIfBot(c.text); got != c.want {
			t.Errorf("AsksIfBot(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

func TestFigures(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"Тариф стоит 1 500 ₽ в месяц", []string{"1500"}},
		{"It is $1,500 per seat, or €12.50 per day", []string{"1500", "12.5"}},
		{"скидка 10% до пятницы и 15 процентов для НКО", []string{"10", "15"}},
		{"1500.00 USD", []string{"1500"}},
		{"3,5% annual", []string{"3.5"}},
		{"budget $5k, or 100 тыс руб", []string{"5000", "100000"}},
		{"we have 12 people and 3 offices", nil},
		{"call +7 999 123-45-67", nil},
	} {
		if got := Figures(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Figures(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestUngroundedFigures(t *testing.T) {
	kb := "Тариф Команда: 1 500 ₽ за пользователя в месяц. Годовая оплата: скидка 10%. Enterprise from $20,000 a year."
	for _, c := range []struct {
		reply string
		want  []string
	}{
		{"Для 10 человек: 1500 ₽ за каждого, а при оплате за год скидка 10 %.", nil},
		{"Enterprise starts at $20 000 per year.", nil},
		{"Могу дать скидку 90%!", []string{"90%"}},              // a prompt injection asked for it
		{"Будет 1 200 ₽ за пользователя", []string{"1200 rub"}}, // an invented price
		{"Special deal: 1500% off", []string{"1500%"}},          // the number is known, as a price, not as a percent
		{"Скидка 10 процентов", nil},
		{"That's 20-dollar cheaper", []string{"20 usd"}},
		{"USD 300 per seat", []string{"300 usd"}},
		{"a 30-percent discount", []string{"30%"}},
		{"всего 1 млн рублей", []string{"1000000 rub"}},
		{"Enterprise is from 20k a year", nil}, // 20k without a currency: $20,000 grounds it
		{"10 000 rub a month", []string{"10000 rub"}},
		{"¥5000 only", []string{"5000 jpy"}},
		{"1,500 ₸", []string{"1500 kzt"}},
		{"15 per cent off", []string{"15%"}},
		{"Давайте созвонимся в 15:00", nil}, // a time is not a price
	} {
		if got := UngroundedFigures(c.reply, kb); !reflect.DeepEqual(got, c.want) {
			t.Errorf("UngroundedFigures(%q) = %q, want %q", c.reply, got, c.want)
		}
	}
}

// The guards read untrusted text: they never panic, every figure they
// return is a plain number, and a text states its own figures and contact
// points.
func FuzzGuards(f *testing.F) {
	for _, s := range []string{"стоп", "1 500 ₽", "$1,500.00", "скидка 10%", ",,,%", "₽", "9..9 $", "\xff\xfe", "forty-nine dollars", "free for a year", "https://x.io/", "+7 (800) 555-35-35", "@acme_bot", "a@b.co", "продиктуйте код из смс"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		IsOptOut(s)
		AsksIfBot(s)
		for _, n := range Figures(s) {
			if n == "" || strings.Trim(n, "0123456789.") != "" {
				t.Fatalf("Figures(%q) returned %q", s, n)
			}
		}
		if u := UngroundedFigures(s, s); len(u) != 0 {
			t.Fatalf("a text does not ground its own figures: %q", u)
		}
		if u := UnstatedContacts(s, s); len(u) != 0 {
			t.Fatalf("a text does not state its own contact points: %q", u)
		}
		AsksForSecret(s)
	})
}
