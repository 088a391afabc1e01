// Package masking owns the masking (desensitisation) of Chinese personal data
// in column values, the validation of Chinese identifiers, and the detection
// of personal data in values and free text. It is a leaf: it imports nothing
// from the rest of dbfence.
//
// # Contract
//
// A Masker appends the masked form of one non-NULL UTF-8 value to a caller
// buffer (Mask(dst, src) []byte); it never keeps src or dst and is safe for
// concurrent use. Every algorithm except pseudonym and sm4_token appends
// without allocating. Masking works per character (rune), not per byte: every hidden
// character becomes one mask character (mask_char, default '*'), so valid
// UTF-8 in gives valid UTF-8 out. New builds maskers from a policy's
// algorithm name and string parameters; unknown names and parameters are
// errors. Everything fails closed: a value that does not validate as its
// class is still masked (the keep rule shrinks so that at least a third of
// the value stays hidden), never passed through.
//
// # Algorithms and parameters (defaults follow common Chinese display rules)
//
//	id_card        keep_first=6 keep_last=4  110105********002X; 15-digit numbers keep ≤3 at the end (birth date hidden)
//	phone          keep_first=3 keep_last=4 landline_keep_last=2  138****5678, 0915-*****79, +86 kept
//	bank_card      keep_first=6 keep_last=4  622588******5808; separators kept
//	name           keep_last=0  张*, 欧阳**, 阿卜杜·***, J*** *****
//	address        level=county|city|province fallback_keep=3  四川省成都市武侯区******
//	email          keep_first=1 mask_domain=false  z*******@example.cn
//	uscc           keep_first=8 keep_last=2  91350100********43
//	passport       keep_first=2 keep_last=2  E1*****78 (also HK/Macao permits)
//	license_plate  keep_first=3 keep_last=1  苏D4***0 (separators not counted)
//	birthday, date precision=year|month  1987 or 1987-06
//	keep           keep_first=0 keep_last=0  generic keep first n / last m
//	mask_range     from=1 to=0 (0 = end)  mask characters from..to (1-based)
//	redact         replacement="***"
//	null           the value becomes NULL (MaskTyped ok=false; Mask appends nothing)
//	pseudonym      key (required) format=hex|digits length=16  keyed HMAC-SM3, deterministic
//	sm4_token      key (required)  "sm4:"+base64url, reversible with Unmask(token, key)
//	generalize     step=10  37 → 30~40
//
// Every algorithm except redact, null, pseudonym and sm4_token takes
// mask_char. Keys are "hex:<hex>", "env:<VARIABLE>" or a raw string of at
// least 16 bytes; errors never echo them.
//
// # Typed columns (MaskTyped)
//
// Drivers decode non-string columns from their text form, so a masked value
// must stay in the column's format. MaskTyped(m, dst, src, t):
//
//	String, Binary      m.Mask as is (null: NULL).
//	Integer, Decimal,   digits hidden by m become 0 and layout punctuation is kept:
//	Float, Time, Year   phone 13812345678 → 13800005678, keep_first=2 on 12345.67 → 12000.00.
//	                    The result is never larger in magnitude, so it fits the type.
//	Date, DateTime      as above, then a month or day with a hidden digit becomes 01 and
//	                    hidden time fields 00 (keep_first=4: 1987-06-15 → 1987-01-01);
//	                    a wholly hidden year → NULL.
//	birthday/date       Date 1987-01-01 (precision=month: 1987-06-01), DateTime
//	                    1987-01-01 00:00:00, Year 1987, Integer YYYYMMDD → 19870101.
//	generalize          numeric types get the range bound nearer to zero (37 → 30, -37 → -30).
//	pseudonym           Integer: HMAC digits, one digit fewer than the input (fits the type).
//	sm4_token           text types only.
//	anything else       ok=false: send NULL (a changed length, a hidden letter, type Other).
//
// # Charsets
//
// ForCharset wraps a Masker for GBK/GB2312/GB18030 columns (decode, mask,
// encode) and returns it unchanged for UTF-8 and ASCII.
//
// # Administrative divisions
//
// data/divisions.tsv (see data/SOURCE.md) is the GB/T 2260 table embedded in
// the binary and parsed once on first use. Addresses keep the longest chain
// province → prefecture → county found at their start, by full name (四川省,
// 凉山彝族自治州, 阿拉善盟) or short form (四川, 川, 成都, 凉山, 武侯); a short form
// counts only when the hierarchy confirms it (a parent before or a child
// after). 直辖市 and 省直辖县 match without a prefecture level. Identity
// numbers need a valid province code; whether the county code is known
// (current or historical) is reported separately because the historical list
// is incomplete.
//
// # Detection
//
// Detect lists the classes a whole value validates as (check digits, Luhn,
// GB 32100, dates, division names); FindAll finds the strongly checkable ones
// (identity numbers, mobiles, bank cards, USCC, e-mail) inside free text and
// RedactDetected masks them: the safety net for unclassified text columns.
// Class.Level maps classes to the 4-level scale (4 = sensitive personal
// information per GB/T 35273 §3.2).
package masking
