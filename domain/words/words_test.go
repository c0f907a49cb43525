package words

import "testing"

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"  Ёлки-Палки!!  ": "елки палки",
		"Don’t  STOP":      "don't stop",
		"ИИ-ассистент":     "ии ассистент",
		"$1,500 (net)":     "1 500 net",
		"":                 "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClaimsHuman(t *testing.T) {
	for text, want := range map[string]bool{
		"Yes, I'm a real person!":               true,
		"Я живой человек, не бот":               true,
		"I’m not a bot, promise":                true,
		"I'm Ada, the AI assistant of Acme":     false,
		"A real person from our team will call": false,
		"Я ИИ-ассистент компании":               false,
	} {
		if got := ClaimsHuman(text); got != want {
			t.Errorf("ClaimsHuman(%q) = %v, want %v", text, got, want)
		}
	}
}

// Capitalize changes the first character only, whole, and keeps text that
// is not UTF-8 as it is (a byte-wise version breaks Cyrillic in two).
func TestCapitalize(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"ёлка opened 3 dialogs": "Ёлка opened 3 dialogs",
		"аккаунт sales-1":       "Аккаунт sales-1",
		"active dialogs":        "Active dialogs",
		"Already":               "Already",
		"ǆungla":                "ǅungla",
		"über":                  "Über",
		"3 accounts":            "3 accounts",
		"\xd1":                  "\xd1",
		"\xffabc":               "\xffabc",
	} {
		if got := Capitalize(in); got != want {
			t.Errorf("Capitalize(%q) = %q, want %q", in, got, want)
		}
	}
}
