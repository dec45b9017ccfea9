// Package serial prints certificate serial numbers the one way the project shows them:
// upper-case hexadecimal, as `openssl x509 -serial` prints them.
package serial

import (
	"fmt"
	"math/big"
)

// Hex is n in upper-case hexadecimal ("" for nil).
func Hex(n *big.Int) string {
	if n == nil {
		return ""
	}
	return fmt.Sprintf("%X", n)
}
