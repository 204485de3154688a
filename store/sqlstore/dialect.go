package sqlstore

import (
	"strconv"
	"strings"
)

// Dialect holds what differs between the SQL engines the store runs on.
type Dialect struct {
	// Name names the engine in errors.
	Name string

	// IDColumn is the column definition of an auto-increment primary key.
	IDColumn string

	// DollarPlaceholders turns the store's ? placeholders into $1, $2, ...
	DollarPlaceholders bool

	// IsUniqueViolation reports whether err is a unique constraint failure.
	IsUniqueViolation func(err error) bool

	// IsForeignKeyViolation reports whether err is a failed reference to a
	// row that does not exist.
	IsForeignKeyViolation func(err error) bool

	// IsUnavailable reports whether err means the database cannot be
	// reached right now; nil means no error does.
	IsUnavailable func(err error) bool
}

// rebind rewrites the ? placeholders of query for the dialect.
func (d Dialect) rebind(query string) string {
	if !d.DollarPlaceholders {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}
