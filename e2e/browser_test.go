package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the whole browser session of a test.
const browserTimeout = 60 * time.Second

// TestGalleryInBrowser is the README's first command followed by what a
// person does next: open the page in a real browser, log in as admin, pick
// the dataset and look at every image.
func TestGalleryInBrowser(t *testing.T) {
	requireBrowser(t)
	dir := filepath.Join(runtime.GOROOT(), "src", "image", "testdata")
	testImages(t)

	p := startBinary(t, t.TempDir(), nil, "--media-dir", dir)
	if p.Password == "" {
		t.Fatalf("first start printed no admin password:\n%s", p.stdout)
	}
	p.login(t, "admin", p.Password, 200)
	want := datasetImageKeys(t, p, "local", "testdata")

	ctx, rec := openBrowser(t)
	rec.allow("/api/v1/me", 401)
	rec.allow("/api/v1/login", 401)
	do(t, ctx, "open the page", chromedp.Navigate(p.URL+"/"), chromedp.WaitVisible("#login"))

	checkWrongPassword(t, ctx)
	logIn(t, ctx, "admin", p.Password)
	pickDataset(t, ctx, "local", "testdata")
	waitImagesLoaded(t, ctx, len(want))

	checkImageSources(t, ctx, p.URL, want)
	rec.check(t)
}

// requireBrowser skips the test when Chromium is not installed, or fails it
// when MEDIASIGN_REQUIRE_BROWSER=1 asks for the browser tests.
func requireBrowser(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := fmt.Sprintf("no Chromium at %s: install Debian's chromium package to run the browser tests",
		chromiumPath)
	if os.Getenv("MEDIASIGN_REQUIRE_BROWSER") == "1" {
		t.Fatal(msg + " (MEDIASIGN_REQUIRE_BROWSER=1 requires them)")
	}
	t.Skip("skipping: " + msg)
}

// openBrowser starts headless Chromium with one tab, bounded by
// browserTimeout, and records the tab's errors from its first moment.
func openBrowser(t *testing.T) (context.Context, *recorder) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.DisableGPU,
		// CI runs the tests as root, where Chromium's sandbox cannot start.
		chromedp.NoSandbox, chromedp.WindowSize(1280, 800))
	timeoutCtx, cancelTimeout := context.WithTimeout(t.Context(), browserTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(timeoutCtx, opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})

	rec := &recorder{urls: make(map[network.RequestID]string),
		excused: make(map[network.RequestID]bool)}
	if err := chromedp.Listen(ctx, rec.event); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx, rec
}

// do runs browser steps and fails the test with what it was doing.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// eval runs a JavaScript expression in the page and returns its value.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds, and fails the test
// with the page's status line when it does not in time.
func waitFor(t *testing.T, ctx context.Context, what, cond string, timeout time.Duration) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		status, _ := chromedp.Run(ctx,
			chromedp.Evaluate[string](`document.getElementById("status").textContent`))
		t.Fatalf("wait until %s: %v (page status: %q)", what, err, status)
	}
}

// checkWrongPassword logs in with a wrong password and expects an error on
// the page, with the login form still there and nothing shown.
func checkWrongPassword(t *testing.T, ctx context.Context) {
	t.Helper()
	do(t, ctx, "log in with a wrong password",
		chromedp.SendKeys("#username", "admin"),
		chromedp.SendKeys("#password", "not-the-password"),
		chromedp.Click("#login button"))
	waitFor(t, ctx, "the page shows the login error",
		`document.getElementById("status").className === "err"`, 15*time.Second)

	status := eval[string](t, ctx, `document.getElementById("status").textContent`)
	if strings.TrimSpace(status) == "" {
		t.Errorf("wrong password: the page shows an empty error")
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("#grid figure").length`); n != 0 {
		t.Errorf("wrong password: the page shows %d files", n)
	}
	if eval[bool](t, ctx, `document.getElementById("login").hidden`) {
		t.Errorf("wrong password: the login form is gone")
	}
}

// logIn types the user name and password into the page's form and clicks
// the button, as a person does, and waits for the dataset list. It empties
// the fields first through their value property: chromedp.Clear changes only
// the value attribute, which no longer counts once a field was typed in.
func logIn(t *testing.T, ctx context.Context, user, password string) {
	t.Helper()
	eval[string](t, ctx, `document.getElementById("username").value = ""`)
	eval[string](t, ctx, `document.getElementById("password").value = ""`)
	do(t, ctx, "log in",
		chromedp.SendKeys("#username", user), chromedp.SendKeys("#password", password),
		chromedp.Click("#login button"))
	waitFor(t, ctx, "the page shows the dataset list",
		`document.getElementById("login").hidden && !document.getElementById("dataset").hidden`,
		15*time.Second)
}

// pickDataset chooses the project and the dataset in the page's lists, when
// the page has not already chosen them, and waits for the grid to fill.
func pickDataset(t *testing.T, ctx context.Context, project, dataset string) {
	t.Helper()
	choose(t, ctx, "project", project)
	waitFor(t, ctx, "the datasets of "+project+" are listed",
		fmt.Sprintf(`[...document.getElementById("dataset").options].some((o) => o.textContent === %q)`,
			dataset), 15*time.Second)
	choose(t, ctx, "dataset", dataset)
	waitFor(t, ctx, "the page shows the dataset",
		`/ files shown\./.test(document.getElementById("status").textContent)`, 15*time.Second)
}

// choose selects the option with the label in the <select> with the id and
// sends the change event a person's choice sends.
func choose(t *testing.T, ctx context.Context, id, label string) {
	t.Helper()
	waitFor(t, ctx, "the "+id+" list holds "+label, fmt.Sprintf(
		`[...document.getElementById(%q).options].some((o) => o.textContent === %q)`, id, label),
		15*time.Second)
	expr := fmt.Sprintf(`(() => {
		const s = document.getElementById(%q);
		const o = [...s.options].find((o) => o.textContent === %q);
		if (s.value === o.value) return false;
		s.value = o.value;
		s.dispatchEvent(new Event("change", { bubbles: true }));
		return true;
	})()`, id, label)
	eval[bool](t, ctx, expr)
}

// waitImagesLoaded scrolls down the grid, as a person does to see the
// lazily loaded images, until every <img> has finished, and fails the test
// for each one that did not load.
func waitImagesLoaded(t *testing.T, ctx context.Context, want int) {
	t.Helper()
	cond := fmt.Sprintf(`(() => {
		const imgs = [...document.querySelectorAll("#grid img")];
		const pending = imgs.filter((i) => !i.complete);
		if (pending.length) pending[0].scrollIntoView({ block: "center" });
		return imgs.length >= %d && !pending.length;
	})()`, want)
	waitFor(t, ctx, "every image has finished loading", cond, 30*time.Second)

	broken := eval[[]string](t, ctx, `[...document.querySelectorAll("#grid img")]
		.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.alt)`)
	for _, key := range broken {
		t.Errorf("image %q did not load in the browser", key)
	}
}

// checkImageSources compares the loaded images with the dataset's image
// files and checks that each comes from a signed /files/ URL or a /m/
// redirect of the service.
func checkImageSources(t *testing.T, ctx context.Context, base string, want []string) {
	t.Helper()
	type shown struct {
		Key string `json:"key"`
		Src string `json:"src"`
	}
	imgs := eval[[]shown](t, ctx, `[...document.querySelectorAll("#grid img")]
		.filter((i) => i.complete && i.naturalWidth > 0)
		.map((i) => ({ key: i.alt, src: i.currentSrc }))`)
	if len(imgs) != len(want) {
		t.Errorf("%d images loaded, want the %d image files of the dataset", len(imgs), len(want))
	}
	t.Logf("%d images loaded in the browser", len(imgs))

	var keys []string
	for _, img := range imgs {
		keys = append(keys, img.Key)
		if problem := signedSource(base, img.Src); problem != "" {
			t.Errorf("image %q: %s", img.Key, problem)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, want) {
		t.Errorf("loaded images %q, want %q", keys, want)
	}
}

// signedSource says what is wrong with an image's URL, or "" when it is a
// signed /files/ URL or a /m/ redirect of the service at base.
func signedSource(base, src string) string {
	u, err := url.Parse(src)
	if err != nil {
		return fmt.Sprintf("src %s does not parse: %v", withoutQuery(src), err)
	}
	if u.Scheme+"://"+u.Host != base {
		return fmt.Sprintf("src %s is not on the service at %s", withoutQuery(src), base)
	}
	switch {
	case strings.HasPrefix(u.Path, "/m/"):
		return ""
	case strings.HasPrefix(u.Path, "/files/") && u.Query().Get("X-Mediasign-Signature") != "":
		return ""
	case strings.HasPrefix(u.Path, "/files/"):
		return fmt.Sprintf("src %s is a /files/ URL without a signature", withoutQuery(src))
	}
	return fmt.Sprintf("src %s is neither a signed /files/ URL nor a /m/ redirect", withoutQuery(src))
}

// datasetImageKeys lists, through the API, the keys of the image files of a
// dataset, sorted.
func datasetImageKeys(t *testing.T, p *process, project, dataset string) []string {
	t.Helper()
	type datasetInfo struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	var ds struct {
		Datasets []datasetInfo `json:"datasets"`
	}
	if code := p.get(t, "/api/v1/projects/"+url.PathEscape(project)+"/datasets", &ds); code != 200 {
		t.Fatalf("datasets of project %q: status %d", project, code)
	}
	i := slices.IndexFunc(ds.Datasets, func(d datasetInfo) bool { return d.Name == dataset })
	if i < 0 {
		t.Fatalf("project %q has no dataset %q: %+v", project, dataset, ds.Datasets)
	}

	var keys []string
	for after := int64(0); ; {
		var page struct {
			Media     []mediaItem `json:"media"`
			NextAfter int64       `json:"next_after"`
		}
		path := pathf("/api/v1/datasets/%d/media?limit=10&after=%d", ds.Datasets[i].ID, after)
		if code := p.get(t, path, &page); code != 200 {
			t.Fatalf("GET %s: status %d", path, code)
		}
		for _, m := range page.Media {
			if strings.HasPrefix(m.MediaType, "image/") {
				keys = append(keys, m.Key)
			}
		}
		if page.NextAfter == 0 {
			break
		}
		after = page.NextAfter
	}
	if len(keys) == 0 {
		t.Fatalf("dataset %s/%s holds no images", project, dataset)
	}
	slices.Sort(keys)
	return keys
}

// recorder collects the tab's uncaught exceptions, console errors, failed
// requests and error answers. Chromium calls its event method on the
// goroutine that reads the tab's messages, so it only takes notes.
type recorder struct {
	mu       sync.Mutex
	urls     map[network.RequestID]string
	allowed  []string
	excused  map[network.RequestID]bool
	problems []string
}

// allow accepts the status as an answer for the path: the page asks
// /api/v1/me before anyone has logged in, and a wrong password is a 401.
func (r *recorder) allow(path string, status int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.allowed = append(r.allowed, fmt.Sprintf("%d %s", status, path))
}

func (r *recorder) event(ev any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		r.urls[ev.RequestID] = ev.Request.URL
	case *network.EventLoadingFailed:
		r.problems = append(r.problems, fmt.Sprintf("request for %s failed: %s %s",
			withoutQuery(r.urls[ev.RequestID]), ev.ErrorText, ev.BlockedReason))
	case *network.EventResponseReceived:
		r.response(ev.RequestID, ev.Response)
	case *cdpruntime.EventExceptionThrown:
		r.problems = append(r.problems, "uncaught exception: "+exceptionText(ev.ExceptionDetails))
	case *cdpruntime.EventConsoleAPICalled:
		if ev.Type == cdpruntime.ConsoleAPICalledTypeError ||
			ev.Type == cdpruntime.ConsoleAPICalledTypeAssert {
			r.problems = append(r.problems, fmt.Sprintf("console.%s called", ev.Type))
		}
	case *log.EventEntryAdded:
		r.logEntry(ev.Entry)
	}
}

// exceptionText is the message of an uncaught exception.
func exceptionText(d *cdpruntime.ExceptionDetails) string {
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}

// response notes an error answer that was not allowed.
func (r *recorder) response(id network.RequestID, resp *network.Response) {
	if resp.Status < 400 {
		return
	}
	if u, err := url.Parse(resp.URL); err == nil && slices.Contains(r.allowed,
		fmt.Sprintf("%d %s", resp.Status, u.Path)) {
		r.excused[id] = true
		return
	}
	r.problems = append(r.problems, fmt.Sprintf("%s answered %d", withoutQuery(resp.URL), resp.Status))
}

// logEntry notes the browser's error log entries, except its note on an
// allowed error answer.
func (r *recorder) logEntry(e *log.Entry) {
	if e.Level != log.EntryLevelError || r.excused[e.NetworkRequestID] {
		return
	}
	r.problems = append(r.problems, fmt.Sprintf("browser log (%s): %s", e.Source, e.Text))
}

// check fails the test for every problem recorded.
func (r *recorder) check(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		t.Errorf("in the browser: %s", p)
	}
}

// withoutQuery drops the query of a URL, so that no signature reaches the
// test output.
func withoutQuery(u string) string {
	base, _, _ := strings.Cut(u, "?")
	return base
}
