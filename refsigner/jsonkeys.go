package refsigner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// checkDuplicateKeys refuses a JSON document in which an object names the
// same key twice: encoding/json keeps the last one silently, so a second
// "rules" would replace the first without a word.
func checkDuplicateKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := walkValue(dec, "$"); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("decode: the policy is empty or cut short")
		}
		return err
	}
	return nil
}

// walkValue reads one value from dec and checks the keys of every object
// in it; path names the value in errors.
func walkValue(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	switch tok {
	case json.Delim('{'):
		return walkObject(dec, path)
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := walkValue(dec, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, err := dec.Token()
		return err
	}
	return nil
}

func walkObject(dec *json.Decoder, path string) error {
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		key, _ := tok.(string)
		// encoding/json matches field names without regard to case.
		folded := strings.ToLower(key)
		if seen[folded] {
			return fmt.Errorf("%s: key %q appears twice: give each key once", path, key)
		}
		seen[folded] = true
		if err := walkValue(dec, path+"."+key); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}
