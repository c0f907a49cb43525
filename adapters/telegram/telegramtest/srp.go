package telegramtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"math/big"

	"github.com/gotd/td/crypto/srp"
	"github.com/gotd/td/tg"
)

// The 2048-bit safe prime and generator Telegram uses for 2FA (SRP); gotd's
// client checks both, so the sandbox uses the real ones.
var (
	srpP, _ = hex.DecodeString("C71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F" +
		"48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C37" +
		"20FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F64" +
		"2477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4" +
		"A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754" +
		"FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4" +
		"E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F" +
		"0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B")
	srpG = 3
)

// password is a user's 2FA password as a server keeps it: the SRP verifier,
// never the password itself.
type password struct {
	salt1, salt2 []byte
	v            *big.Int
}

func newPassword(plain string) (*password, error) {
	salt1 := make([]byte, 8)
	salt2 := make([]byte, 16)
	if _, err := rand.Read(salt1); err != nil {
		return nil, err
	}
	if _, err := rand.Read(salt2); err != nil {
		return nil, err
	}
	// NewHash appends 32 random bytes to salt1 and returns v = g^x mod p,
	// exactly what Telegram stores when a password is set.
	v, salt1, err := srp.NewSRP(rand.Reader).NewHash([]byte(plain), srp.Input{Salt1: salt1, Salt2: salt2, G: srpG, P: srpP})
	if err != nil {
		return nil, err
	}
	return &password{salt1: salt1, salt2: salt2, v: new(big.Int).SetBytes(v)}, nil
}

// srpSession is one account.getPassword answer awaiting auth.checkPassword.
type srpSession struct {
	id int64
	b  *big.Int
	gb []byte // B, padded
}

func (p *password) challenge() (*srpSession, *tg.AccountPassword, error) {
	prime := new(big.Int).SetBytes(srpP)
	g := big.NewInt(int64(srpG))
	bBytes := make([]byte, 256)
	if _, err := rand.Read(bBytes); err != nil {
		return nil, nil, err
	}
	var idBytes [8]byte
	if _, err := rand.Read(idBytes[:]); err != nil {
		return nil, nil, err
	}
	b := new(big.Int).SetBytes(bBytes)
	k := new(big.Int).SetBytes(hash(srpP, pad(g)))
	// B = (k*v + g^b) mod p
	B := new(big.Int).Mul(k, p.v)
	B.Add(B, new(big.Int).Exp(g, b, prime)).Mod(B, prime)
	s := &srpSession{id: int64(new(big.Int).SetBytes(idBytes[:7]).Uint64()), b: b, gb: pad(B)}
	return s, &tg.AccountPassword{
		HasPassword: true,
		CurrentAlgo: &tg.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow{
			Salt1: p.salt1, Salt2: p.salt2, G: srpG, P: srpP,
		},
		SRPB:          s.gb,
		SRPID:         s.id,
		NewAlgo:       &tg.PasswordKdfAlgoUnknown{},
		NewSecureAlgo: &tg.SecurePasswordKdfAlgoUnknown{},
		SecureRandom:  make([]byte, 32),
	}, nil
}

// check verifies the client's SRP proof M1 for the challenge s.
func (p *password) check(s *srpSession, A, M1 []byte) bool {
	prime := new(big.Int).SetBytes(srpP)
	a := new(big.Int).SetBytes(A)
	if a.Sign() <= 0 || a.Cmp(prime) >= 0 {
		return false
	}
	ga := pad(a)
	u := new(big.Int).SetBytes(hash(ga, s.gb))
	// S = (A * v^u)^b mod p
	S := new(big.Int).Exp(p.v, u, prime)
	S.Mul(S, a).Mod(S, prime)
	S.Exp(S, s.b, prime)
	K := sha256.Sum256(pad(S))
	hp := sha256.Sum256(srpP)
	hg := sha256.Sum256(pad(big.NewInt(int64(srpG))))
	var x [32]byte
	for i := range x {
		x[i] = hp[i] ^ hg[i]
	}
	want := hash(x[:], hash(p.salt1), hash(p.salt2), ga, s.gb, K[:])
	return subtle.ConstantTimeCompare(want, M1) == 1
}

func hash(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func pad(i *big.Int) []byte {
	b := make([]byte, 256)
	i.FillBytes(b)
	return b
}
