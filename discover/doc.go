// Package discover owns data discovery: it samples rows of every column of
// every non-system table of a MySQL/MariaDB or PostgreSQL database, runs the
// masking package's detectors on the values, and proposes a classification
// in the policy's YAML format, with the hit ratio of each proposal as a
// comment so that a reviewer can judge it:
//
//	classification:
//	  - column: gov.person.id_card   # 1000/1000 sampled values are valid id_card
//	    class: id_card
//	    level: 4
//
// Column names are database.table.column on MySQL and schema.table.column on
// PostgreSQL. Classes are the policy classes (masking.Class.PolicyClass:
// mobiles and landlines are phone, HK/Macao permits passport), which are also
// the masking algorithm names. Levels follow masking.Class.Level: 4 for
// sensitive personal information (GB/T 35273-2020 §3.2: id_card, bank_card,
// passport), 3 for other personal information (name, phone, email, address,
// license_plate, birthday), 2 for organisation codes (uscc).
//
// Sampling reads the first Options.SampleRows rows of each table (LIMIT, no
// ORDER BY): cheap on large tables, but not a random sample. Only columns of
// text, integer, decimal and date/time types are read; binary, JSON, spatial,
// small-integer and floating-point columns cannot hold the detected classes in
// a detectable form and are skipped. Dates become birthday only when the
// column name says so (birth, dob, csrq, 出生, 生日).
//
// Run is read-only: it issues information_schema queries and SELECTs.
// Progress lines go to the progress writer, the YAML to out.
package discover
