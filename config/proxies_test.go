package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestTrustedProxies(t *testing.T) {
	c, err := Load(env(map[string]string{
		EnvTrustedProxies: " 10.0.0.0/8, 192.0.2.10 ,fd00::/8,::ffff:172.16.0.0/108,10.1.2.3/16,",
	}))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := "[10.0.0.0/8 192.0.2.10/32 fd00::/8 172.16.0.0/12 10.1.0.0/16]"
	if got := fmt.Sprint(c.TrustedProxies); got != want {
		t.Fatalf("TrustedProxies = %s, want %s", got, want)
	}

	_, err = Load(env(map[string]string{EnvTrustedProxies: "10.0.0.0/8,proxy.local,10.0.0.0/33"}))
	if err == nil || !strings.Contains(err.Error(), `"proxy.local"`) ||
		!strings.Contains(err.Error(), `"10.0.0.0/33"`) || !strings.Contains(err.Error(), EnvTrustedProxies) {
		t.Fatalf("Load with bad entries: %v, want both named", err)
	}

	c, err = Load(env(nil))
	if err != nil || c.TrustedProxies != nil {
		t.Fatalf("default TrustedProxies = %v, %v; want none", c.TrustedProxies, err)
	}
}
