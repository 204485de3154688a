package s3

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestPageObjectsDecodesURLEncodedKeys(t *testing.T) {
	page := &awss3.ListObjectsV2Output{EncodingType: types.EncodingTypeUrl, Contents: []types.Object{
		{Key: aws.String("ctl/a%01b.jpg"), Size: aws.Int64(1)},
		{Key: aws.String("pkgs/libstdc%2B%2B.tgz"), Size: aws.Int64(2)},
		{Key: aws.String("videos/my+clip.mp4"), Size: aws.Int64(3)},
		{Key: aws.String("videos/"), Size: aws.Int64(0)},
	}}
	objs, err := pageObjects(page)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ctl/a\x01b.jpg", "pkgs/libstdc++.tgz", "videos/my clip.mp4"}
	if len(objs) != len(want) {
		t.Fatalf("got %d objects, want %d", len(objs), len(want))
	}
	for i, w := range want {
		if objs[i].Key != w {
			t.Errorf("key %d = %q, want %q", i, objs[i].Key, w)
		}
	}

	bad := &awss3.ListObjectsV2Output{EncodingType: types.EncodingTypeUrl,
		Contents: []types.Object{{Key: aws.String("a%zz"), Size: aws.Int64(1)}}}
	if _, err := pageObjects(bad); err == nil {
		t.Fatal("a malformed encoded key was accepted")
	}

	plain := &awss3.ListObjectsV2Output{Contents: []types.Object{{Key: aws.String("a+b%41"), Size: aws.Int64(1)}}}
	if objs, _ := pageObjects(plain); objs[0].Key != "a+b%41" {
		t.Errorf("unencoded page key = %q, want it as listed", objs[0].Key)
	}
}
