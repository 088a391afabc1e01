package masking

import (
	"fmt"
	"strings"
	"sync"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// ForCharset adapts m to column values in the given connection/column
// charset. UTF-8 and ASCII charsets (utf8, utf8mb3, utf8mb4, ascii, and
// PostgreSQL's UTF8) return m itself. gbk, gb2312, euc_cn and gb18030 wrap m:
// decode → mask → encode. Bytes that do not decode become U+FFFD before
// masking; characters that cannot be encoded back (a U+FFFD that was kept,
// a mask character outside the charset) become '?'. Any other charset is an
// error: masking bytes whose characters are unknown would be guesswork.
func ForCharset(m Masker, charset string) (Masker, error) {
	switch strings.ToLower(strings.ReplaceAll(charset, "-", "")) {
	case "utf8", "utf8mb4", "utf8mb3", "ascii", "usascii":
		return m, nil
	case "gbk", "gb2312", "euccn", "euc_cn", "cp936":
		return newTranscodingMasker(m, simplifiedchinese.GBK), nil
	case "gb18030":
		return newTranscodingMasker(m, simplifiedchinese.GB18030), nil
	}
	return nil, fmt.Errorf("masking: unsupported charset %q (supported: utf8, utf8mb4, ascii, gbk, gb2312, gb18030)", charset)
}

// transcodingMasker decodes to UTF-8, masks, and encodes back. Decoders and
// encoders of x/text keep state, so each call takes a set from a pool.
type transcodingMasker struct {
	inner Masker
	pool  sync.Pool // of *transcoder
}

type transcoder struct {
	decoder  transform.Transformer
	encoder  transform.Transformer
	utf8Src  []byte
	utf8Mask []byte
}

func newTranscodingMasker(inner Masker, enc encoding.Encoding) *transcodingMasker {
	return &transcodingMasker{inner: inner, pool: sync.Pool{New: func() any {
		return &transcoder{
			decoder: enc.NewDecoder(),
			encoder: encoding.ReplaceUnsupported(enc.NewEncoder()),
		}
	}}}
}

// Mask implements Masker.
func (m *transcodingMasker) Mask(dst, src []byte) []byte {
	tc := m.pool.Get().(*transcoder)
	defer m.pool.Put(tc)
	tc.utf8Src = transformAppend(tc.decoder, tc.utf8Src[:0], src)
	tc.utf8Mask = m.inner.Mask(tc.utf8Mask[:0], tc.utf8Src)
	return transformAppend(tc.encoder, dst, tc.utf8Mask)
}

// maskTyped: numbers and dates are ASCII in every supported charset, so the
// typed treatment of the inner masker applies to the bytes as they are.
func (m *transcodingMasker) maskTyped(dst, src []byte, t ValueType) ([]byte, bool) {
	if t == String || t == Binary {
		if _, isNull := m.inner.(nullMasker); isNull {
			return dst, false
		}
		return m.Mask(dst, src), true
	}
	return MaskTyped(m.inner, dst, src, t)
}

// transformAppend runs t over all of src, appending to dst and growing it as
// needed.
func transformAppend(t transform.Transformer, dst, src []byte) []byte {
	t.Reset()
	for {
		if cap(dst)-len(dst) < len(src)+16 {
			grown := make([]byte, len(dst), 2*cap(dst)+len(src)+16)
			copy(grown, dst)
			dst = grown
		}
		nDst, nSrc, err := t.Transform(dst[len(dst):cap(dst)], src, true)
		dst = dst[:len(dst)+nDst]
		src = src[nSrc:]
		if err != transform.ErrShortDst {
			return dst // decoders replace bad input, encoders replace unsupported runes: no other error
		}
	}
}
