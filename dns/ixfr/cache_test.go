package ixfr

import "testing"

func TestCacheEviction(t *testing.T) {
	type op struct {
		add  string // key to add, or
		get  string // key to look up
		cost int
		hit  bool
	}
	tests := []struct {
		name string
		ops  []op
		len  int
	}{
		{"fits", []op{{add: "a", cost: 4}, {add: "b", cost: 6}, {get: "a", hit: true}, {get: "b", hit: true}}, 2},
		{"oldest goes", []op{{add: "a", cost: 4}, {add: "b", cost: 4}, {add: "c", cost: 4}, {get: "a"}, {get: "c", hit: true}}, 2},
		{"used is kept", []op{{add: "a", cost: 4}, {add: "b", cost: 4}, {get: "a", hit: true}, {add: "c", cost: 4}, {get: "b"}, {get: "a", hit: true}}, 2},
		{"too big is not kept", []op{{add: "a", cost: 4}, {add: "big", cost: 11}, {get: "big"}, {get: "a", hit: true}}, 1},
		{"replace", []op{{add: "a", cost: 4}, {add: "a", cost: 8}, {add: "b", cost: 2}, {get: "a", hit: true}}, 2},
		{"zero cost counts one", []op{{add: "a"}, {add: "b"}, {get: "a", hit: true}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCache[int](10)
			for i, o := range tt.ops {
				if o.add != "" {
					c.add(o.add, i, o.cost)
					continue
				}
				if _, hit := c.get(o.get); hit != o.hit {
					t.Errorf("op %d: get %s hit %v, want %v", i, o.get, hit, o.hit)
				}
			}
			if c.len() != tt.len || c.cost > c.limit {
				t.Errorf("%d entries costing %d, want %d within %d", c.len(), c.cost, tt.len, c.limit)
			}
		})
	}
}
