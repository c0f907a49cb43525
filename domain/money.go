package domain

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// Money is an exact amount in a currency. Minor counts the currency's
// minor units (cents, kopecks; a yen is its own minor unit), so sums are
// exact; Currency is an ISO 4217 code in upper case. Events carry it as a
// decimal text with the currency's minor digits ("1200.50" USD, "1200"
// JPY) and the code: the text says what it is without a table, and
// PostgreSQL reads it as numeric.
type Money struct {
	Minor    int64
	Currency string
}

// Errors of money, also matched with errors.Is through the *Error that
// carries them (its Field says "amount" or "currency").
var (
	// ErrCurrency: not an ISO 4217 currency code.
	ErrCurrency = errors.New("domain: not an ISO 4217 currency code")
	// ErrAmount: not a positive decimal amount with at most the
	// currency's minor digits.
	ErrAmount = errors.New("domain: not an amount")
)

// maxAmountDigits bounds the whole part of an amount (a trillion, in any
// currency, is no deal size; the bound keeps Minor far from overflow).
const maxAmountDigits = 13

// CurrencyDigits is the number of minor digits of an ISO 4217 currency
// (2 for USD, 0 for JPY, 3 for KWD); code may be in any case. It fails
// with an *Error (EINVALID, field "currency") matching ErrCurrency for a
// code that is not a currency (also XXX "no currency" and XTS "testing").
func CurrencyDigits(code string) (string, int, error) {
	up := strings.ToUpper(strings.TrimSpace(code))
	bad := &Error{Code: EINVALID, Field: "currency", Err: ErrCurrency,
		Message: fmt.Sprintf("%q is not an ISO 4217 currency code (USD, EUR, RUB, ...)", code)}
	if len(up) != 3 || up == "XXX" || up == "XTS" {
		return "", 0, bad
	}
	u, err := currency.ParseISO(up)
	if err != nil {
		return "", 0, bad
	}
	digits, _ := currency.Standard.Rounding(u)
	return up, digits, nil
}

// ParseMoney reads amount, a decimal with a point ("1200", "1200.5",
// "1200.50"), in currency code. The amount must be positive, with at most
// the currency's minor digits and at most 13 whole digits. Errors are
// *Error (EINVALID) matching ErrCurrency or ErrAmount, with their Field.
func ParseMoney(amount, code string) (Money, error) {
	cur, digits, err := CurrencyDigits(code)
	if err != nil {
		return Money{}, err
	}
	bad := func(why string) (Money, error) {
		return Money{}, &Error{Code: EINVALID, Field: "amount", Err: ErrAmount,
			Message: fmt.Sprintf("%q is not an amount of %s: %s", amount, cur, why)}
	}
	whole, frac, dot := strings.Cut(strings.TrimSpace(amount), ".")
	switch {
	case whole == "" || !allDigits(whole) || !allDigits(frac) || (dot && frac == ""):
		return bad("write digits with a point for the decimals, like 1200.50")
	case len(strings.TrimLeft(whole, "0")) > maxAmountDigits:
		return bad("too large")
	case len(frac) > digits:
		return bad(fmt.Sprintf("%s has %d decimal digits", cur, digits))
	}
	frac += strings.Repeat("0", digits-len(frac))
	minor, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return bad("too large")
	}
	if minor <= 0 {
		return bad("it must be more than zero")
	}
	return Money{Minor: minor, Currency: cur}, nil
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// IsZero says whether m is no amount at all.
func (m Money) IsZero() bool { return m == Money{} }

// Decimal is the amount as a decimal with the currency's minor digits:
// "1200.50" for USD, "1200" for JPY; "" for the zero Money.
func (m Money) Decimal() string {
	if m.IsZero() {
		return ""
	}
	_, digits, err := CurrencyDigits(m.Currency)
	if err != nil {
		digits = 2
	}
	s := strconv.FormatInt(m.Minor, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// String is "1200.50 USD"; "" for the zero Money.
func (m Money) String() string {
	if m.IsZero() {
		return ""
	}
	return m.Decimal() + " " + m.Currency
}
