package discovery_test

import (
	"testing"

	"github.com/tlsbootstrap/tlsbootstrap/discovery"
	"github.com/tlsbootstrap/tlsbootstrap/token"
)

// Everything a node reads from an unverified connection must fail cleanly, never panic.
func FuzzVerify(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiIsImtpZCI6Impvc2h1YSJ9..VShe2taLd-YTrmWuRkcL_8QTNDHYxQIEBsAYYiIj1_8", vectorContent)
	f.Add("eyJhbGciOiJub25lIiwia2lkIjoiam9zaHVhIn0..", "")
	f.Add("..", "x")
	f.Fuzz(func(t *testing.T, signature, content string) {
		tok := token.Token{ID: vectorID, Secret: vectorSecret}
		err := discovery.Verify(signature, []byte(content), tok)
		if err == nil {
			want, _ := discovery.Sign([]byte(content), tok)
			if signature != want {
				t.Fatalf("Verify accepted %q for %q, want only %q", signature, content, want)
			}
		}
	})
}

func FuzzParseClusterInfo(f *testing.F) {
	good, err := discovery.ClusterInfoKubeconfig("https://10.0.0.1:6443", []byte(fixedCA))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte("apiVersion: v1\nkind: Config\nclusters: []\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := discovery.ParseClusterInfo(data)
		if err == nil && (info.Server == "" || len(info.CACerts) == 0) {
			t.Fatalf("accepted cluster-info without a server or CA: %+v", info)
		}
	})
}

func FuzzParsePin(f *testing.F) {
	f.Add(fixedPin)
	f.Add("SHA256:" + fixedPin[7:])
	f.Add("sha1:abc")
	f.Fuzz(func(t *testing.T, s string) {
		norm, err := discovery.ParsePin(s)
		if err != nil {
			return
		}
		if again, err := discovery.ParsePin(norm); err != nil || again != norm {
			t.Fatalf("ParsePin(%q) = %q, not a fixed point: %q, %v", s, norm, again, err)
		}
	})
}
