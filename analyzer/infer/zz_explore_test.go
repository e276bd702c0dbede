package infer

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sort"
	"testing"

	"github.com/flowaudit/flowaudit/catalog"
)

func TestExplore(t *testing.T) {
	cat, _ := catalog.Default()
	{
		{
			m := NewModel(cat, nil)
			fmt.Println("N", m.roles, "items", len(m.items), "cands", len(m.cands), "kappa", m.kappa)
			for _, infra := range []bool{false, true} {
				fmt.Println("infra", infra)
				for _, frac := range []float64{1, 0.5, 0.25} {
					rng := rand.New(rand.NewPCG(1, 2))
					ok, tie, wrong, none, tot := 0, 0, 0, 0, 0
					var good, bad []float64
					for _, c := range m.cands {
						if c.mode != "" {
							continue
						}
						for rep := 0; rep < 20; rep++ {
							h := &Host{Addr: netip.MustParseAddr("10.0.0.1")}
							for _, i := range c.items {
								if rng.Float64() > frac {
									continue
								}
								it := m.items[i]
								h.Observations = append(h.Observations, Observation{Dir: it.dir, Proto: it.proto, Port: it.r.Lo})
							}
							if infra {
								for _, x := range []struct {
									p    uint8
									port uint16
								}{{17, 53}, {6, 88}, {6, 389}, {6, 445}, {17, 123}} {
									h.Observations = append(h.Observations, Observation{Dir: Called, Proto: x.p, Port: x.port})
								}
							}
							if len(h.Observations) == 0 {
								continue
							}
							m.Propose(h, Options{MinScore: -1})
							tot++
							switch {
							case len(h.Tied) > 0:
								tie++
							case len(h.Roles) == 0:
								none++
							case h.Roles[0].Role == c.role:
								ok++
								good = append(good, h.Roles[0].Score)
							default:
								wrong++
								bad = append(bad, h.Roles[0].Score)
								if false {
									fmt.Printf("  wrong %s -> %s %.2f (%d obs)\n", c.role.Name, h.Roles[0].Name(), h.Roles[0].Score, len(h.Observations))
								}
							}
						}
					}
					sort.Float64s(good)
					sort.Float64s(bad)
					q := func(s []float64, f float64) float64 {
						if len(s) == 0 {
							return 0
						}
						return s[int(f*float64(len(s)-1))]
					}
					_ = infra
					fmt.Printf("frac %.2f: ok %d tie %d wrong %d none %d / %d; good q10 %.2f q50 %.2f; bad q50 %.2f q90 %.2f\n", frac, ok, tie, wrong, none, tot, q(good, .1), q(good, .5), q(bad, .5), q(bad, .9))
				}
			}
		}
	}
}
