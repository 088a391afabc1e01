package masking

import "testing"

// benchmarkMask masks one value per iteration into a reused caller buffer and
// reports masked cells per second.
func benchmarkMask(b *testing.B, m Masker, value string) {
	src := []byte(value)
	dst := make([]byte, 0, 4*len(src)+64)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for b.Loop() {
		dst = m.Mask(dst[:0], src)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cells/s")
}

func mustNew(b *testing.B, algorithm string, params map[string]string) Masker {
	m, err := New(algorithm, params)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func BenchmarkMask(b *testing.B) {
	benches := []struct {
		desc      string
		algorithm string
		params    map[string]string
		value     string
	}{
		{desc: "id_card", algorithm: "id_card", value: "11010519491231002X"},
		{desc: "id_card_invalid_format", algorithm: "id_card", value: "1101-0519-4912-3100"},
		{desc: "phone_mobile", algorithm: "phone", value: "13812345678"},
		{desc: "phone_landline", algorithm: "phone", value: "0915-1234579"},
		{desc: "bank_card", algorithm: "bank_card", value: "6225882708965808"},
		{desc: "name", algorithm: "name", value: "欧阳娜娜"},
		{desc: "email", algorithm: "email", value: "zhangsan@example.cn"},
		{desc: "address_full", algorithm: "address", value: "四川省成都市武侯区人民南路四段1号"},
		{desc: "address_autonomous_prefecture", algorithm: "address", value: "四川省凉山彝族自治州西昌市长安路1号"},
		{desc: "address_no_province", algorithm: "address", value: "朝阳区建国路88号"},
		{desc: "address_unmatched", algorithm: "address", value: "玉林路2号附3号"},
		{desc: "keep", algorithm: "keep", params: map[string]string{"keep_first": "2", "keep_last": "2"}, value: "abcdefghij"},
		{desc: "birthday", algorithm: "birthday", value: "1987-06-15"},
		{desc: "pseudonym_hex", algorithm: "pseudonym", params: map[string]string{"key": testKey}, value: "13812345678"},
		{desc: "sm4_token", algorithm: "sm4_token", params: map[string]string{"key": testKey}, value: "11010519491231002X"},
	}
	for _, bc := range benches {
		b.Run(bc.desc, func(b *testing.B) { benchmarkMask(b, mustNew(b, bc.algorithm, bc.params), bc.value) })
	}
	b.Run("name_gbk", func(b *testing.B) {
		m, err := ForCharset(mustNew(b, "name", nil), "gbk")
		if err != nil {
			b.Fatal(err)
		}
		benchmarkMask(b, m, "\xc5\xb7\xd1\xf4\xc4\xc8\xc4\xc8") // 欧阳娜娜 in GBK
	})
}

func BenchmarkMaskTypedIntegerPhone(b *testing.B) {
	m := mustNew(b, "phone", nil)
	src := []byte("13812345678")
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = MaskTyped(m, dst[:0], src, Integer)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cells/s")
}

var benchText = []byte("申请人张三，身份证11010519491231002X，手机138-1234-5678，银行卡 6225 8827 0896 5808，" +
	"邮箱 zhang.san@example.cn，单位代码91350100M000100Y43，订单号 20240101123，备注：无。")

func BenchmarkFindAll(b *testing.B) {
	spans := make([]Span, 0, 16)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		spans = FindAll(benchText, spans[:0])
	}
}

func BenchmarkRedactDetected(b *testing.B) {
	dst := make([]byte, 0, 2*len(benchText))
	b.ReportAllocs()
	b.SetBytes(int64(len(benchText)))
	for b.Loop() {
		dst = RedactDetected(dst[:0], benchText)
	}
}

func BenchmarkDetect(b *testing.B) {
	values := [][]byte{[]byte("11010519491231002X"), []byte("13812345678"), []byte("四川省成都市武侯区人民南路四段1号"), []byte("张三")}
	classes := make([]Class, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range values {
			classes = AppendDetected(classes[:0], v)
		}
	}
}
