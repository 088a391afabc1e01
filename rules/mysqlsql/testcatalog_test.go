package mysqlsql

import (
	"github.com/dbfence/dbfence/rules/catalog"
)

// govCatalog is the schema of the catalogue's examples, plus a view, a
// second table, another database and the sysbench table, and the demo's
// household table and person_public view.
func govCatalog() *catalog.Catalog {
	cols := func(names ...string) []catalog.Column {
		out := make([]catalog.Column, len(names))
		for i, n := range names {
			out[i] = catalog.Column{Name: n}
		}
		return out
	}
	return catalog.New(catalog.Options{LowerCaseTableNames: 0}, []*catalog.Table{
		{Database: "gov", Name: "person", Columns: cols("id", "name", "id_card", "phone", "address", "bank_card", "birthday", "dept")},
		{Database: "gov", Name: "dept", Columns: cols("id", "dname", "city")},
		{Database: "gov", Name: "v_person", Columns: cols("id", "name", "card", "dept"),
			View: &catalog.View{Definition: "select `gov`.`person`.`id` AS `id`,`gov`.`person`.`name` AS `name`,`gov`.`person`.`id_card` AS `card`,`gov`.`person`.`dept` AS `dept` from `gov`.`person`"}},
		{Database: "gov", Name: "v_contact", Columns: cols("pid", "contact"),
			View: &catalog.View{Definition: "select `p`.`id` AS `pid`,concat(`p`.`phone`,' ',`p`.`address`) AS `contact` from `gov`.`person` `p` where `p`.`dept` = 3"}},
		{Database: "gov", Name: "v_nested", Columns: cols("card"),
			View: &catalog.View{Definition: "select `gov`.`v_person`.`card` AS `card` from `gov`.`v_person`"}},
		{Database: "gov", Name: "mine", Columns: cols("x", "y")},
		{Database: "gov", Name: "household", Columns: cols("id", "person_id", "member_name", "member_id_card", "relation")},
		{Database: "gov", Name: "person_public", Columns: cols("id", "name", "dept"),
			View: &catalog.View{Definition: "select `person`.`id` AS `id`,`person`.`name` AS `name`,`person`.`dept` AS `dept` from `person`"}},
		{Database: "hr", Name: "staff", Columns: cols("id", "name", "phone")},
		{Database: "sbtest", Name: "sbtest1", Columns: cols("id", "k", "c", "pad")},
		{Database: "sbtest", Name: "sbtest2", Columns: cols("id", "k", "c", "pad")},
		{Database: "sbtest", Name: "sbtest3", Columns: cols("id", "k", "c", "pad")},
		{Database: "sbtest", Name: "sbtest4", Columns: cols("id", "k", "c", "pad")},
	})
}
