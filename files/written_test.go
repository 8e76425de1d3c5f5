package files

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestByteRangesCoverOutOfOrderWrites(t *testing.T) {
	const chunk, n = 100, 500
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	var b byteRanges
	for i, k := range order {
		if err := b.add(int64(k*chunk), int64(k*chunk+chunk)); err != nil {
			t.Fatal(err)
		}
		if got := b.covers(n * chunk); got != (i == n-1) {
			t.Fatalf("after %d of %d writes: covers = %v", i+1, n, got)
		}
	}
	if len(b.r) != 1 {
		t.Errorf("ranges not merged: %v", b.r)
	}
}

func TestByteRangesGapsAndCuts(t *testing.T) {
	var b byteRanges
	b.add(10, 20)
	b.add(30, 40)
	if b.covers(40) {
		t.Errorf("covers with a gap at the start")
	}
	b.add(0, 10)
	if b.covers(40) || !b.covers(20) {
		t.Errorf("gap 20-30: %v", b.r)
	}
	b.add(15, 35) // overlaps both
	if !b.covers(40) || len(b.r) != 1 {
		t.Errorf("after an overlapping write: %v", b.r)
	}
	b.cut(25)
	if !b.covers(25) || b.covers(26) {
		t.Errorf("after cut(25): %v", b.r)
	}
	b.add(30, 31)
	b.cut(28)
	if len(b.r) != 1 || b.r[0] != [2]int64{0, 25} {
		t.Errorf("cut inside a gap: %v", b.r)
	}
	if !new(byteRanges).covers(0) {
		t.Errorf("an empty upload is whole")
	}
}

func TestByteRangesBoundFragmentation(t *testing.T) {
	var b byteRanges
	var err error
	for i := int64(0); i <= maxRanges && err == nil; i++ {
		err = b.add(i*10, i*10+1)
	}
	if err != ErrFragmented {
		t.Errorf("want ErrFragmented after %d scattered writes, got %v", maxRanges, err)
	}
}

func TestByteRangesGaps(t *testing.T) {
	var b byteRanges
	b.add(10, 20)
	b.add(30, 40)
	var got [][2]int64
	b.gaps(35, func(start, end int64) error { got = append(got, [2]int64{start, end}); return nil })
	want := [][2]int64{{0, 10}, {20, 30}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("gaps(35) = %v, want %v", got, want)
	}
	got = nil
	b.gaps(50, func(start, end int64) error { got = append(got, [2]int64{start, end}); return nil })
	if want := [][2]int64{{0, 10}, {20, 30}, {40, 50}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("gaps(50) = %v, want %v", got, want)
	}
}
