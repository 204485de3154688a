package export

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/mediasign/mediasign"
)

// bufferSize is the write buffer of an export file.
const bufferSize = 1 << 20

// maxLine bounds one line read back from an export file: a key of 1024
// bytes, escaped, and two URLs that carry it fit many times over.
const maxLine = 1 << 20

// latest is the widest time the header may hold; the header's place is
// sized for it.
var latest = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// file is an export being written: a temporary file beside its final
// path, hidden by its name, with room for the header at its start. The
// header is written last, when the count and the earliest expiry are
// known, and the file takes its final name only when it is complete.
type file struct {
	f        *os.File
	w        *bufio.Writer
	path     string
	format   mediasign.ExportFormat
	header   Header
	reserved int

	count    int64
	earliest time.Time
	line     []byte
}

// CheckOutput refuses an output path that exists and is not a regular file:
// the finished export is renamed into place, which would replace a
// directory's name, a device, a pipe or a symbolic link.
func CheckOutput(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check export output %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return mediasign.Invalidf("export output %s exists and is not a regular file (a directory, "+
			"device, pipe or link): give the path of a new or regular file", path)
	}
	return nil
}

// createFile starts an export file that will be renamed to path.
func createFile(path string, format mediasign.ExportFormat, h Header) (*file, error) {
	if err := CheckOutput(path); err != nil {
		return nil, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create export file in %s: %w", dir, err)
	}

	out := &file{f: f, w: bufio.NewWriterSize(f, bufferSize), path: path, format: format,
		header: h}
	widest := h
	widest.GeneratedAt, widest.MinExpiresAt, widest.Count = latest, latest, math.MaxInt64
	out.reserved = len(out.headerBlock(&widest, 0))

	// Blanks where the header goes, in as many lines: a file cut short
	// never shows a header.
	tail := "\n"
	if format == mediasign.ExportJSON {
		tail = "\n\"entries\":["
	}
	blank := bytes.Repeat([]byte{' '}, out.reserved-len(tail))
	if _, err := out.w.Write(append(blank, tail...)); err != nil {
		out.abort()
		return nil, fmt.Errorf("write export file: %w", err)
	}
	return out, nil
}

// headerBlock renders the bytes before the first entry, padded with
// spaces to pad bytes.
func (x *file) headerBlock(h *Header, pad int) []byte {
	b := append([]byte(nil), `{"header":`...)
	b = appendHeader(b, h)
	tail := "}\n"
	if x.format == mediasign.ExportJSON {
		tail = ",\n\"entries\":["
	}
	for len(b)+len(tail) < pad {
		b = append(b, ' ')
	}
	return append(b, tail...)
}

// write appends one entry.
func (x *file) write(e *Entry) error {
	x.line = x.line[:0]
	if x.format == mediasign.ExportJSON {
		if x.count > 0 {
			x.line = append(x.line, ',')
		}
		x.line = append(x.line, '\n')
	}
	x.line = appendEntry(x.line, e)
	if x.format == mediasign.ExportJSONLines {
		x.line = append(x.line, '\n')
	}
	if _, err := x.w.Write(x.line); err != nil {
		return fmt.Errorf("write export file: %w", err)
	}

	if t := e.earliest(); x.count == 0 || t.Before(x.earliest) {
		x.earliest = t
	}
	x.count++
	return nil
}

// flush writes out the buffered entries and the end of the document, so
// the temporary file can be read back.
func (x *file) flush() error {
	if x.format == mediasign.ExportJSON {
		if _, err := x.w.WriteString("\n]}\n"); err != nil {
			return fmt.Errorf("write export file: %w", err)
		}
	}
	if err := x.w.Flush(); err != nil {
		return fmt.Errorf("write export file: %w", err)
	}
	return nil
}

// seal writes the header, with the count and earliest expiry so far, and
// syncs the file. The caller has flushed it.
func (x *file) seal(generatedAt time.Time) error {
	h := x.header
	h.GeneratedAt, h.Count, h.MinExpiresAt = generatedAt, x.count, x.earliest
	if x.count == 0 {
		h.MinExpiresAt = generatedAt.Add(time.Duration(h.MinValidSeconds) * time.Second)
	}
	block := x.headerBlock(&h, x.reserved)
	if len(block) != x.reserved {
		return fmt.Errorf("write export header: %d bytes do not fit the %d reserved",
			len(block), x.reserved)
	}

	if _, err := x.f.WriteAt(block, 0); err != nil {
		return fmt.Errorf("write export header: %w", err)
	}
	if err := x.f.Sync(); err != nil {
		return fmt.Errorf("sync export file: %w", err)
	}
	return nil
}

// place gives a sealed file its final name and returns its size.
func (x *file) place() (int64, error) {
	info, err := x.f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat export file: %w", err)
	}
	if err := x.f.Close(); err != nil {
		return 0, fmt.Errorf("close export file: %w", err)
	}
	if err := os.Rename(x.f.Name(), x.path); err != nil {
		return 0, fmt.Errorf("rename export file into place: %w", err)
	}
	return info.Size(), syncDir(filepath.Dir(x.path))
}

// abort closes and removes the temporary file.
func (x *file) abort() {
	x.f.Close()
	os.Remove(x.f.Name())
}

// syncDir makes a rename in dir durable. Windows cannot sync a directory
// and needs no such step.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open export directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync export directory: %w", err)
	}
	return nil
}

// reader reads the entries of a flushed export file back, in order.
type reader struct {
	f      *os.File
	sc     *bufio.Scanner
	format mediasign.ExportFormat
}

// openEntries opens the temporary file of x and skips its header.
func openEntries(x *file) (*reader, error) {
	f, err := os.Open(x.f.Name())
	if err != nil {
		return nil, fmt.Errorf("read export file back: %w", err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	r := &reader{f: f, sc: sc, format: x.format}

	skip := 1
	if x.format == mediasign.ExportJSON {
		skip = 2
	}
	for range skip {
		if !sc.Scan() {
			f.Close()
			return nil, fmt.Errorf("read export file back: the header is missing")
		}
	}
	return r, nil
}

// next returns the next entry line without its separator, or nil at the
// end.
func (r *reader) next() ([]byte, error) {
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			return nil, fmt.Errorf("read export file back: %w", err)
		}
		return nil, nil
	}
	line := r.sc.Bytes()
	if r.format == mediasign.ExportJSON {
		if string(line) == "]}" {
			return nil, nil
		}
		line = bytes.TrimSuffix(line, []byte{','})
	}
	return line, nil
}

func (r *reader) close() { r.f.Close() }
