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

// Mentions no sales reply has a reason to make count as asking without a
// request verb; warnings and "no card needed" still pass.
func TestAsksForSecretBare(t *testing.T) {
	for _, c := range []struct {
		text, want string
	}{
		{"send me the code from the SMS", "SMS or login code"},
		{"пришлите код из смс", "SMS or login code"},
		{"Номер карты и срок действия — и бронь ваша.", "card number"},
		{"Паспортные данные и СНИЛС, пожалуйста.", "passport data"},
		{"CVV on the back, please.", "CVV"},
		{"And the three digit code on the back of your card", "CVV"},
		{"What's the 3-digit code on the back of your card?", "CVV"},
		{"Please send the 16 digits on your card", "card number"},
		{"Send a photo of your card, front and back", "card number"},
		{"Вам придёт код — перешлите его мне", "SMS or login code"},
		{"Напишите код, который пришёл", "SMS or login code"},
		{"Tell me the one-time code you received", "SMS or login code"},
		{"send me your login details", "password"},
		{"Логин и пароль от CRM — и я всё настрою", "password"},
		{"Для брони пришлите серию и номер паспорта", "passport data"},
		{"Your card number is required to reserve", "card number"},
		{"Код с обратной стороны карты подскажете?", "CVV"},
		{"И CVV-код, пожалуйста", "CVV"},
		{"Сообщите код подтверждения", "SMS or login code"},
		{"Reply with the 6-digit code we texted you", "SMS or login code"},
		{"Forward me the verification text you got", "SMS or login code"},
		{"I need the code you just received", "SMS or login code"},
		{"Please send the front and back of your ID", "passport data"},
		{"Нужен скан паспорта для договора", "passport data"},
		// Conservative: naming card data is withheld even as a payment
		// instruction (a person checks; "только" must not be a way out).
		{"Оплата на сайте, данные карты вводите только там", "card number"},
		{"We never ask for your card number. CVV on the back, please", "CVV"},
		// Not requests.
		{"we never ask for your card", ""},
		{"We will never ask for your card details or an SMS code.", ""},
		{"Мы никогда не попросим номер карты или код из СМС.", ""},
		{"14-day free trial, no credit card needed", ""},
		{"The trial needs no card number at all.", ""},
		{"Пробный период без привязки карты.", ""},
		{"If you forgot your password, reset it at the login page", ""},
		{"Change your password in the settings any time.", ""},
		{"We support SSO, so nobody needs a password of ours.", ""},
		{"The SMS reminder goes out a day before the demo.", ""},
		{"Паспорт сделки готовится менеджером", ""},
		{"We support 2FA with SMS codes for your team", ""},
		{"Доступ через SSO, пароли не нужны", ""},
		{"Никогда не сообщайте CVV-код", ""},
		{"Use the code ACME15 at checkout", ""},
		{"Введите промокод ACME при оплате", ""},
		{"Карта клиента в CRM обновится автоматически", ""},
	} {
		if got := AsksForSecret(c.text); got != c.want {
			t.Errorf("AsksForSecret(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}
