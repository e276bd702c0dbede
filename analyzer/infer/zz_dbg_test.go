package infer

import (
	"fmt"
	"testing"
)

func TestDbgRAS(t *testing.T) {
	m := builtinModel(t)
	for _, name := range []string{"RAS Performance Monitor", "RAS Connection Broker"} {
		for _, c := range m.cands {
			if c.role.Name != name { continue }
			fmt.Println(c.role.DisplayName(c.mode), c.mass)
			for _, i := range c.items { fmt.Printf("  %v %d %v w=%.2f\n", m.items[i].dir, m.items[i].proto, m.items[i].r, m.weight[i]) }
		}
	}
}
