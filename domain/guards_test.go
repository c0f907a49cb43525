package domain

import (
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
