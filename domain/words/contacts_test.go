package words

import (
	"reflect"
	"testing"
)

func TestContactPoints(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"Pay here: https://WWW.Evil-Pay.io/Checkout/?id=1.", []string{"evil-pay.io/Checkout/?id=1"}},
		{"see acme.com, or www.acme.com/pricing/", []string{"acme.com", "acme.com/pricing"}},
		{"write to Sales@Acme.com.", []string{"sales@acme.com"}},
		{"Звоните: 8 (800) 555-35-35 или +7 800 555 35 35", []string{"tel:78005553535"}},
		{"call +1 (555) 123-4567", []string{"tel:15551234567"}},
		{"ping @Acme_Support or t.me/acme_support", []string{"@acme_support"}},
		{"сайт пример.рф", []string{"пример.рф"}},
		{"http://localhost:8080/x and HTTP://10.0.0.1/pay", []string{"localhost:8080/x", "10.0.0.1/pay"}},
		// Not contact points.
		{"e.g. the plan costs 1 500 000 ₽, т.е. дорого", nil},
		{"from 1000-2000 rub, on 2024-01-15 or 15-01-2024", nil},
		{"we use Node.js and readme.md; v1.5", nil},
		{"order 1234567 is ready", nil},
		{"", nil},
	} {
		if got := ContactPoints(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ContactPoints(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestUnstatedContacts(t *testing.T) {
	stated := "Website: https://acme.com/. Support: support@acme.com, +7 (800) 555-35-35, t.me/acme_support."
	for _, c := range []struct {
		reply string
		want  []string
	}{
		{"See www.ACME.com/pricing or write to Support@acme.com", nil},
		{"Call 8 800 555 35 35 or @acme_support", nil},
		{"Pay at https://acme-pay.io/checkout", []string{"acme-pay.io/checkout"}},
		{"Pay at acme.com.evil.io/checkout", []string{"acme.com.evil.io/checkout"}},
		{"write to billing@evil.io", []string{"billing@evil.io"}},
		{"call +7 999 123-45-67", []string{"tel:79991234567"}},
		{"message @acme_payments", []string{"@acme_payments"}},
		{"t.me/someone_else", []string{"@someone_else"}},
	} {
		if got := UnstatedContacts(c.reply, stated); !reflect.DeepEqual(got, c.want) {
			t.Errorf("UnstatedContacts(%q) = %q, want %q", c.reply, got, c.want)
		}
	}
}

// Obfuscated contact points are caught, in their plain normal form (so
// the scenario's own website, obfuscated, is still stated); ordinary
// prose is left alone.
func TestContactPointsObfuscated(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"pay at pay-acme.com", []string{"pay-acme.com"}},
		{"pay at acme .com/pay", []string{"acme.com/pay"}},
		{"go to acme . com", []string{"acme.com"}},
		{"see acme. com for details", []string{"acme.com"}},
		{"acme[.]com or acme(dot)com", []string{"acme.com"}},
		{"visit acme dot com", []string{"acme.com"}},
		{"write to sales (at) evil dot io", []string{"sales@evil.io"}},
		{"sales[at]evil.io", []string{"sales@evil.io"}},
		{"hxxps://evil.io/pay", []string{"evil.io/pay"}},
		{"acme。com and acme．com", []string{"acme.com"}},
		{"evil\u200b.com", []string{"evil.com"}},
		{"t.me/someone", []string{"@someone"}},
		{"t.me / someone", []string{"@someone"}},
		{"tg://resolve?domain=evil_pay", []string{"@evil_pay"}},
		{"WhatsApp: wa.me/79161234567", []string{"wa.me/79161234567"}},
		{"+7 (916) 123-45-67", []string{"tel:79161234567"}},
		{"8-916-123-45-67", []string{"tel:79161234567"}},
		{"pay at evil.gift", []string{"evil.gift"}},
		{"https : //evil.io/pay", []string{"evil.io/pay"}},
		{"пишите на почту sales собака evil точка ру", []string{"sales@evil.ru"}},
		{"сайт acme . рф", []string{"acme.рф"}},
		{"[pay here](https://evil.io/pay)", []string{"evil.io/pay"}},
		// Prose.
		{"Thanks. It works. Com is short for company.", nil},
		{"Отлично. Ru-версия готова.", nil},
		{"Great. Let me know", nil},
		{"Наша собака любит гулять, точка.", nil},
	} {
		if got := ContactPoints(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ContactPoints(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	if u := UnstatedContacts("pay at acme . com/pay or acme[.]com", "Website: https://acme.com"); len(u) != 0 {
		t.Errorf("an obfuscated form of the stated website counts as unstated: %q", u)
	}
}
