package words

import (
	"reflect"
	"testing"
)

func TestWordFigures(t *testing.T) {
	for _, c := range []struct {
		text string
		want []Figure
	}{
		{"It's only forty-nine dollars a month", []Figure{{"49", "usd"}}},
		{"Today: half price!", []Figure{{"50", "%"}}},
		{"скидка десять процентов", []Figure{{"10", "%"}}},
		{"всего пятьдесят тысяч рублей", []Figure{{"50000", "rub"}}},
		{"вдвое дешевле, чем у конкурентов", []Figure{{"50", "%"}}},
		{"в два раза дешевле", []Figure{{"50", "%"}}},
		{"free for a year", []Figure{{"365", UnitFree}}},
		{"try it free for three months", []Figure{{"90", UnitFree}}},
		{"14-day free trial", []Figure{{"14", UnitFree}}},
		{"первый месяц бесплатно", []Figure{{"30", UnitFree}}},
		{"бесплатно на год", []Figure{{"365", UnitFree}}},
		{"one hundred and twenty euros", []Figure{{"120", "eur"}}},
		{"two thousand five hundred dollars", []Figure{{"2500", "usd"}}},
		{"полторы тысячи рублей", []Figure{{"1500", "rub"}}},
		{"fifteen per cent off", []Figure{{"15", "%"}}},
		{"двадцати процентов", []Figure{{"20", "%"}}},
		// Not amounts.
		{"one of our ten clients", nil},
		{"feel free to ask, we'll talk in a week", nil},
		{"a free trial, no card needed", nil},
		{"пять человек в команде", nil},
		{"", nil},
	} {
		if got := wordFigures(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("wordFigures(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}

// Words and digits ground each other; a free period is grounded only by
// the same period.
func TestUngroundedInWords(t *testing.T) {
	kb := "Starter: $49 per user per month. Annual billing: 15% discount. 14-day free trial. Скидка 10% для НКО."
	for _, c := range []struct {
		reply string
		want  []Figure
	}{
		{"Starter is forty-nine dollars per user", nil},
		{"fifteen percent off for a year upfront", nil},
		{"десять процентов для некоммерческих", nil},
		{"try it free for fourteen days", nil},
		{"forty dollars for you", []Figure{{"40", "usd"}}},
		{"half price today", []Figure{{"50", "%"}}},
		{"вдвое дешевле только сегодня", []Figure{{"50", "%"}}},
		{"пятьдесят тысяч рублей", []Figure{{"50000", "rub"}}},
		{"free for a year if you sign now", []Figure{{"365", UnitFree}}},
		{"первый месяц бесплатно", []Figure{{"30", UnitFree}}},
		{"fourteen dollars", []Figure{{"14", "usd"}}}, // 14 is a trial's days, not a price
	} {
		if got := Ungrounded(c.reply, kb); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Ungrounded(%q) = %v, want %v", c.reply, got, c.want)
		}
	}
}

// More ways a model writes an amount: fractions, multipliers alone, a
// bare number after "скидка", Russian percent adjectives, free periods
// with a verb, two-for-one.
func TestWordFiguresMore(t *testing.T) {
	for _, c := range []struct {
		text string
		want []Figure
	}{
		{"the first two months are free", []Figure{{"60", UnitFree}}},
		{"two months free", []Figure{{"60", UnitFree}}},
		{"два месяца в подарок", []Figure{{"60", UnitFree}}},
		{"a month on us", []Figure{{"30", UnitFree}}},
		{"пятьдесят процентов", []Figure{{"50", "%"}}},
		{"тысяча рублей", []Figure{{"1000", "rub"}}},
		{"a hundred dollars", []Figure{{"100", "usd"}}},
		{"скидка пятьдесят", []Figure{{"50", "%"}}},
		{"a discount of twenty on Team", []Figure{{"20", "%"}}},
		{"десятипроцентная скидка", []Figure{{"10", "%"}}},
		{"дадим двадцатипятипроцентную скидку", []Figure{{"25", "%"}}},
		{"a quarter off", []Figure{{"25", "%"}}},
		{"a third off the first year", []Figure{{"33", "%"}}},
		{"треть цены", []Figure{{"33", "%"}}},
		{"на четверть дешевле", []Figure{{"25", "%"}}},
		{"втрое дешевле", []Figure{{"67", "%"}}},
		{"two for one this week", []Figure{{"50", "%"}}},
		{"два по цене одного", []Figure{{"50", "%"}}},
		{"we cut the price in half", []Figure{{"50", "%"}}},
		{"дешевле на треть", []Figure{{"33", "%"}}},
		{"twenty grand a year", []Figure{{"20000", "money"}}},
		{"sixty quid", []Figure{{"60", "gbp"}}},
		{"всего два косаря", []Figure{{"2000", "rub"}}},
		{"пятихатка в месяц", []Figure{{"500", "rub"}}},
		// Not amounts.
		{"a quarter of our clients", nil},
		{"треть команды в отпуске", nil},
		{"the months are busy", nil},
		{"тысяча благодарностей", nil},
		{"процентная ставка", nil},
	} {
		if got := wordFigures(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("wordFigures(%q) = %v, want %v", c.text, got, c.want)
		}
	}
}
