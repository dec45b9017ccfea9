package serial

import (
	"math/big"
	"testing"
)

func TestHex(t *testing.T) {
	for _, tc := range []struct {
		n    *big.Int
		want string
	}{
		{nil, ""},
		{big.NewInt(0), "0"},
		{big.NewInt(255), "FF"},
		{new(big.Int).Lsh(big.NewInt(1), 100), "10000000000000000000000000"},
	} {
		if got := Hex(tc.n); got != tc.want {
			t.Errorf("Hex(%v) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
