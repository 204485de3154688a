// Package e2e holds mediasign's end-to-end tests: the whole service against
// a real S3 server, and the built binary as a newcomer runs it.
package e2e
