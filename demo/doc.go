// Package demo owns the synthetic data set the `dbfence demo` subcommand and
// the integration tests run against: fake but valid Chinese personal data, and
// the seeders that load it into MySQL/MariaDB and PostgreSQL.
//
// # Generator
//
// NewGenerator(seed) yields Person records that are a pure function of
// (seed, id), so every run, machine and test sees the same people:
//
//   - 居民身份证号: 18 characters, a real county-level GB/T 2260 code from
//     Regions (all 31 mainland provinces, 直辖市 districts, 自治州, 地区, 盟/旗,
//     省直辖县级行政单位), a birthday 1940–2005, an odd/even sex digit and the
//     GB 11643-1999 check character;
//   - names: weighted common surnames, compound surnames (CompoundSurnames),
//     Uyghur-style names with "·" (mostly in Xinjiang) and Tibetan names;
//   - mainland mobiles with real 3-digit prefixes (^1[3-9]\d{9}$);
//   - UnionPay debit cards with real BINs, 16–19 digits, Luhn-valid;
//   - full addresses (province + city + county + 街道/镇 + road + number +
//     building/unit/room, or 村/组/号), in the ID's county for ~85% of people;
//   - the agency (Dept) the record belongs to, e.g. 民政局, 公安局, 人社局.
//
// Generator.Household adds 0–3 members (配偶, 子女, 父亲, 母亲) per person,
// registered in the same county, children included (sensitive data of minors).
//
// # Seeders
//
// SeedMySQL and SeedPostgres (or a Seeder for another database name, seed or
// batch size) create
//
//	person(id, name, id_card, phone, address, bank_card, birthday, dept)
//	household(id, person_id, relation, member_name, member_id_card)
//	person_public  -- view: SELECT id, name, dept FROM person
//
// and fill them with multi-row INSERTs (500 rows each, prepared once, in one
// transaction). They are idempotent: a table already holding exactly the rows
// the generator would write (count and a per-row CRC32/MD5 checksum computed
// by the server) is left alone; anything else is dropped and recreated.
//
// Every value is fabricated; any resemblance to a real person's data is
// chance. Nothing in this package reads or writes real personal data.
package demo
