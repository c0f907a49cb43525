package domain

import (
	"errors"
	"testing"
)

func TestParseMoney(t *testing.T) {
	for _, c := range []struct {
		amount, cur string
		want        Money
		dec         string
		err         error
	}{
		{"1200.5", "usd", Money{120050, "USD"}, "1200.50", nil},
		{"1200", "EUR", Money{120000, "EUR"}, "1200.00", nil},
		{"0.01", "RUB", Money{1, "RUB"}, "0.01", nil},
		{"150000", "JPY", Money{150000, "JPY"}, "150000", nil},
		{"1.234", "KWD", Money{1234, "KWD"}, "1.234", nil},
		{"9999999999999.99", "USD", Money{999999999999999, "USD"}, "9999999999999.99", nil},
		{"10000000000000", "USD", Money{}, "", ErrAmount},
		{"1.5", "JPY", Money{}, "", ErrAmount},
		{"1.", "USD", Money{}, "", ErrAmount},
		{".5", "USD", Money{}, "", ErrAmount},
		{"1 200", "USD", Money{}, "", ErrAmount},
		{"0.00", "USD", Money{}, "", ErrAmount},
		{"+5", "USD", Money{}, "", ErrAmount},
		{"5", "XXX", Money{}, "", ErrCurrency},
		{"5", "US", Money{}, "", ErrCurrency},
		{"5", "руб", Money{}, "", ErrCurrency},
		{"5", "BTC", Money{}, "", ErrCurrency},
	} {
		got, err := ParseMoney(c.amount, c.cur)
		if c.err != nil {
			if !errors.Is(err, c.err) || ErrorCode(err) != EINVALID {
				t.Errorf("ParseMoney(%q, %q) = %v, %v; want %v", c.amount, c.cur, got, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want || got.Decimal() != c.dec {
			t.Errorf("ParseMoney(%q, %q) = %+v (%q), %v; want %+v (%q)", c.amount, c.cur, got, got.Decimal(), err, c.want, c.dec)
		}
	}
	if s := (Money{5, "USD"}).String(); s != "0.05 USD" {
		t.Errorf("String = %q", s)
	}
	if s := (Money{}).String(); s != "" {
		t.Errorf("zero String = %q", s)
	}
}

func TestParseBudget(t *testing.T) {
	for _, c := range []struct {
		text string
		want string // Money.String(); "" for none
	}{
		{"5000 USD", "5000.00 USD"},
		{"$5k", "5000.00 USD"},
		{"€1 200", "1200.00 EUR"},
		{"50 000 руб", "50000.00 RUB"},
		{"50\u00a0000 ₽", "50000.00 RUB"},
		{"1,5 млн рублей", "1500000.00 RUB"},
		{"около 300 тыс. руб в месяц", "300000.00 RUB"},
		{"USD 3000 per month", "3000.00 USD"},
		{"around 3000 USD per month", "3000.00 USD"},
		{"$1,200.50", "1200.50 USD"},
		{"1.200,50 €", "1200.50 EUR"},
		{"2500 euros", "2500.00 EUR"},
		{"10k dollars a year", "10000.00 USD"},
		{"5000 р.", "5000.00 RUB"},
		{"150000 JPY", "150000 JPY"},
		{"5000usd", "5000.00 USD"},
		{"10k", ""},                  // no currency
		{"not decided yet", ""},      // no number
		{"$5k–$7k", ""},              // a range
		{"5 000 - 7 000 руб", ""},    // a range
		{"5000 USD or 4000 EUR", ""}, // two amounts
		{"B2B 300 all", ""},          // "all" in lower case is a word
		{"about 20 people, $0", ""},  // zero is no budget
		{"50 000 rubles", "50000.00 RUB"},
	} {
		m, ok := ParseBudget(c.text)
		got := ""
		if ok {
			got = m.String()
		}
		if got != c.want {
			t.Errorf("ParseBudget(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

// A stated budget is recorded with its amount and currency next to the
// text, by a manager's update or a turn; one that does not read stays
// text only; old events without them still read.
func TestBudgetIsTyped(t *testing.T) {
	upd := func(value string) UpdateQualification {
		return UpdateQualification{Qual: Qualification{Budget: &Field{Value: value, Confidence: 0.8}}}
	}
	runDialogCases(t, []dialogCase{
		{"parsed", at(StageDiscovery), upd("$5k per month"),
			[]Event{QualificationUpdated{Qual: Qualification{Budget: &Field{Value: "$5k per month", Confidence: 0.8, Amount: "5000.00", Currency: "USD"}}}}, ""},
		{"text only", at(StageDiscovery), upd("depends on the price"),
			[]Event{QualificationUpdated{Qual: Qualification{Budget: &Field{Value: "depends on the price", Confidence: 0.8}}}}, ""},
		{"given amount kept", at(StageDiscovery), UpdateQualification{Qual: Qualification{Budget: &Field{Value: "five grand", Amount: "5000", Currency: "USD"}}},
			[]Event{QualificationUpdated{Qual: Qualification{Budget: &Field{Value: "five grand", Amount: "5000", Currency: "USD"}}}}, ""},
		{"given amount bad", at(StageDiscovery), UpdateQualification{Qual: Qualification{Budget: &Field{Value: "x", Amount: "5000", Currency: "ZZZ"}}}, nil, EINVALID},
	})
	old := Field{Value: "50 000 руб"} // recorded before budgets were typed
	if m, ok := old.Money(); !ok || m != (Money{5000000, "RUB"}) {
		t.Errorf("old budget reads %+v, %v", m, ok)
	}
	erased := Field{Value: "[forgotten]", Amount: "[forgotten]", Currency: "RUB"}
	if m, ok := erased.Money(); ok {
		t.Errorf("erased budget reads %+v", m)
	}
}
