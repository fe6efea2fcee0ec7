package ec2sim_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/afisync/afisync/ec2sim"
)

// BenchmarkHandlerDescribe measures the handler alone: one
// DescribeFpgaImages page of 100 out of 1000 AFIs.
func BenchmarkHandlerDescribe(b *testing.B) {
	s := ec2sim.New(ec2sim.Options{Clock: ec2sim.NewManualClock(t0)})
	for range 1000 {
		if _, err := s.AddImage(ec2sim.Image{Region: "us-east-1", Tags: map[string]string{"team": "fpga"}}); err != nil {
			b.Fatal(err)
		}
	}
	body := "Action=DescribeFpgaImages&Version=2016-11-15&Owner.1=self&MaxResults=100&Filter.1.Name=tag%3Ateam&Filter.1.Value.1=fpga"
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Authorization", authEast)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Body)
		}
	}
}

// BenchmarkSDKCopy measures CopyFpgaImage round trips through the real SDK
// client over loopback HTTP.
func BenchmarkSDKCopy(b *testing.B) {
	s := ec2sim.New(ec2sim.Options{Clock: ec2sim.NewManualClock(t0)})
	src, _ := s.AddImage(ec2sim.Image{Region: "us-east-1"})
	srv := httptest.NewServer(s)
	defer srv.Close()
	e := &env{sim: s, srv: srv}
	c := e.ec2("us-west-2")
	in := &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.CopyFpgaImage(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
