package words

import "testing"

func TestAsksForSecret(t *testing.T) {
	for _, c := range []struct {
		text, want string
	}{
		{"Great! Send me your card number and I'll reserve the seat.", "card number"},
		{"To confirm, what's the code from the SMS?", "SMS or login code"},
		{"Please provide the CVV on the back of the card", "CVV"},
		{"Продиктуйте, пожалуйста, код из СМС", "SMS or login code"},
		{"Пришлите номер карты и срок действия", "card number"},
		{"Для оформления нужны ваши паспортные данные", "passport data"},
		{"Скажите пароль от личного кабинета", "password"},
		{"Напишите номер вашей банковской карты", "card number"},
		{"Какой код пришёл вам в сообщении от банка?", "SMS or login code"},
		{"Your password?", "password"},
		{"Enter the verification code we just sent you", "SMS or login code"},
		{"Let me know your login and password so I can set it up", "password"},
		{"Номер карты?", "card number"},
		{"We never share data, so send me the card number", "card number"},
		{"Please share a photo of your passport", "passport data"},
		{"Не забудьте продиктовать код из смс", "SMS or login code"},
		{"Don't forget to send me the card number", "card number"},
		{"Не волнуйтесь, просто пришлите пароль", "password"},
		// Not requests: the false-match table.
		{"We never ask for your password or card number.", ""},
		{"Никому не сообщайте код из СМС, даже нам.", ""},
		{"Мы никогда не просим паспортные данные", ""},
		{"You can pay by bank card or invoice.", ""},
		{"Оплатить можно картой или по счёту.", ""},
		{"If you forgot your password, reset it at the login page.", ""},
		{"Do not share your CVV with anyone.", ""},
		{"The SMS reminder goes out a day before the demo.", ""},
		{"Passwords are stored hashed; we support SSO.", ""},
		{"Send me your company name and team size", ""},
		{"What is your budget?", ""},
		{"Паспорт сделки готовится менеджером", ""},
		{"Мы не храним пароли и не запрашиваем данные карты", ""},
		{"You don't need to give us your card number for the trial.", ""},
		{"", ""},
	} {
		if got := AsksForSecret(c.text); got != c.want {
			t.Errorf("AsksForSecret(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}
