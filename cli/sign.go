package cli

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mediasign/mediasign"
)

func runSign(ctx context.Context, env Env, args []string) error {
	fs := newFlags(env, "sign", "sign [flags] s3://BUCKET/KEY | KEY",
		"Prints a signed URL for one object of a connection. For local connections give\n"+
			"the key (the path under the root). The key is used exactly as given.")
	var (
		state                 stateFlags
		conn, expires, method string
		contentType, respType string
		respDisposition       string
	)
	state.register(fs)
	fs.StringVar(&conn, "connection", "", "connection to sign with (required)")
	fs.StringVar(&expires, "expires", "1h", "validity: a duration such as 90m or 24h, or seconds")
	fs.StringVar(&method, "method", "GET", "GET, or PUT for an upload URL")
	fs.StringVar(&contentType, "content-type", "", "Content-Type an upload must send (PUT)")
	fs.StringVar(&respType, "response-content-type", "", "Content-Type of the download")
	fs.StringVar(&respDisposition, "response-content-disposition", "",
		"Content-Disposition of the download, e.g. attachment; filename=\"a.jpg\"")
	if err := parseOne(fs, args, "one object"); err != nil {
		return err
	}
	if conn == "" {
		return fmt.Errorf("--connection is required: name the connection to sign with " +
			"(see 'mediasign connection list')")
	}

	req, err := signRequest(fs.Arg(0), expires, method)
	if err != nil {
		return err
	}
	req.ContentType, req.ResponseContentType = contentType, respType
	req.ResponseContentDisposition = respDisposition

	a, err := state.open(ctx, env)
	if err != nil {
		return err
	}
	defer a.Close()

	u, err := a.Service.Sign(ctx, conn, req)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, u.URL)
	fmt.Fprintf(env.Stderr, "expires at %s\n", u.ExpiresAt.UTC().Format(time.RFC3339))
	for _, k := range sortedKeys(u.Headers) {
		fmt.Fprintf(env.Stderr, "send header %s: %s\n", k, u.Headers[k])
	}
	return nil
}

func signRequest(object, expires, method string) (mediasign.SignRequest, error) {
	var req mediasign.SignRequest
	if rest, ok := strings.CutPrefix(object, "s3://"); ok {
		bucket, key, found := strings.Cut(rest, "/")
		if !found || bucket == "" || key == "" {
			return req, fmt.Errorf("%q is not s3://BUCKET/KEY", object)
		}
		req.Bucket, req.Key = bucket, key
	} else {
		req.Key = object
	}
	if req.Key == "" {
		return req, fmt.Errorf("the object key is empty")
	}

	d, err := parseExpires(expires)
	if err != nil {
		return req, err
	}
	req.Expires = d

	switch m := mediasign.Method(strings.ToUpper(method)); m {
	case mediasign.MethodGet, mediasign.MethodPut:
		req.Method = m
	default:
		return req, fmt.Errorf("--method %q is not supported: use GET or PUT", method)
	}
	return req, nil
}

// parseExpires reads a duration ("90m") or whole seconds ("3600").
func parseExpires(s string) (time.Duration, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("--expires %q is not a duration (e.g. 90m, 24h) or whole seconds", s)
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("--expires %q is not a whole number of seconds", s)
	}
	return d, nil
}
