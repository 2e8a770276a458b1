package runtime

import (
	"database/sql/driver"
	"fmt"
	"math"
	"strconv"
)

// Money is an amount of US dollars held as a whole number of nano-dollars
// (1e-9 USD). Costs are kept in Money inside llmpipe so that adding up
// thousands of calls is exact: float dollars drift ($0.000013400000000000002)
// and micro-dollars are too coarse for Flash-Lite's per-token prices
// (a token of $0.10 per 1M is 100 nano-dollars). Money crosses into
// dollars only at the edges: JSON, the terminal, the store's REAL columns.
type Money int64

// Dollars converts d dollars to Money, rounded to the nearest nano-dollar.
// NaN and infinities become 0.
func Dollars(d float64) Money {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return 0
	}
	return Money(math.Round(d * 1e9))
}

// Dollars is m in dollars: the float64 nearest to the exact decimal, so
// that encoding it with the shortest representation prints no noise.
func (m Money) Dollars() float64 { return float64(m) / 1e9 }

// String is m in dollars as an exact decimal without trailing zeros:
// "0.0000134", "1.5", "0".
func (m Money) String() string { return string(m.AppendDollars(nil)) }

// AppendDollars appends m in dollars as String writes it.
func (m Money) AppendDollars(b []byte) []byte {
	n := int64(m)
	if n < 0 {
		b = append(b, '-')
		if n == math.MinInt64 {
			return append(b, "9223372036.854775808"...)
		}
		n = -n
	}
	b = strconv.AppendInt(b, n/1e9, 10)
	frac := n % 1e9
	if frac == 0 {
		return b
	}
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := 9
	for digits[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, digits[:end]...)
}

// MarshalJSON writes m as a JSON number of dollars, exactly.
func (m Money) MarshalJSON() ([]byte, error) { return m.AppendDollars(nil), nil }

// UnmarshalJSON reads a number of dollars.
func (m *Money) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*m = Dollars(f)
	return nil
}

// Value stores m as REAL dollars (database/sql/driver.Valuer): the
// store's cost columns are dollars, readable by any SQLite client.
func (m Money) Value() (driver.Value, error) { return m.Dollars(), nil }

// Scan reads dollars stored by Value (database/sql.Scanner), rounding to
// the nano-dollar.
func (m *Money) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*m = 0
	case float64:
		*m = Dollars(v)
	case int64:
		*m = Money(v) * 1e9
	case []byte:
		return m.UnmarshalJSON(v)
	case string:
		return m.UnmarshalJSON([]byte(v))
	default:
		return fmt.Errorf("scanning %T as dollars", src)
	}
	return nil
}
