package masking

import "testing"

func TestDivisionTable(t *testing.T) {
	tab := divisions()
	if n := len(tab.provinces); n < 34 {
		t.Errorf("%d provinces, want ≥ 34", n)
	}
	counties := 0
	for code, current := range tab.regions {
		if current && code%100 != 0 {
			counties++
		}
	}
	if counties < 2800 {
		t.Errorf("%d current county-level codes, want ≥ 2800", counties)
	}
	tests := []struct {
		desc string
		code int32
		want regionStatus
	}{
		{desc: "current 武侯区", code: 510107, want: regionCurrent},
		{desc: "abolished 崇文区", code: 110103, want: regionHistorical},
		{desc: "abolished 潮阳县", code: 440524, want: regionHistorical},
		{desc: "province row", code: 510000, want: regionCurrent},
		{desc: "nonexistent", code: 999999, want: regionUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := tab.region(tc.code); got != tc.want {
				t.Errorf("region(%d) = %d, want %d", tc.code, got, tc.want)
			}
		})
	}
}

func TestShortName(t *testing.T) {
	tests := []struct {
		desc  string
		name  string
		level uint8
		want  string
	}{
		{desc: "province", name: "四川省", level: levelProvince, want: "四川"},
		{desc: "autonomous region", name: "广西壮族自治区", level: levelProvince, want: "广西"},
		{desc: "autonomous region without ethnic group", name: "西藏自治区", level: levelProvince, want: "西藏"},
		{desc: "SAR", name: "香港特别行政区", level: levelProvince, want: "香港"},
		{desc: "autonomous prefecture", name: "凉山彝族自治州", level: levelPrefecture, want: "凉山"},
		{desc: "prefecture with two groups", name: "黔东南苗族侗族自治州", level: levelPrefecture, want: "黔东南"},
		{desc: "prefecture with 蒙古 and no 族", name: "博尔塔拉蒙古自治州", level: levelPrefecture, want: "博尔塔拉"},
		{desc: "ethnic word inside the place name", name: "长白朝鲜族自治县", level: levelCounty, want: "长白"},
		{desc: "league", name: "阿拉善盟", level: levelPrefecture, want: "阿拉善"},
		{desc: "district", name: "武侯区", level: levelCounty, want: "武侯"},
		{desc: "one-character stem kept long", name: "和县", level: levelCounty, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.desc, func(t *testing.T) {
			if got := shortName(tc.name, tc.level); got != tc.want {
				t.Errorf("shortName(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}
