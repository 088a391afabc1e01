import java.sql.*;

// MaskedRead reads citizens through dbfence with the MariaDB JDBC driver,
// once with server-side prepared statements (binary rows) and once with a
// plain statement (text rows), decoding every column with its typed getter.
public class MaskedRead {
    public static void main(String[] args) throws Exception {
        String url = args[0];
        try (Connection c = DriverManager.getConnection(url)) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, name, id_card, phone, address, bank_card, birthday, dept FROM person WHERE id = ?")) {
                for (int id = 1; id <= 3; id++) {
                    ps.setInt(1, id);
                    try (ResultSet rs = ps.executeQuery()) {
                        print("binary", rs);
                    }
                }
            }
            try (Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT id, name, id_card, phone, address, bank_card, birthday, dept FROM person WHERE id IN (1, 2, 3)")) {
                print("text", rs);
            }
        }
    }

    static void print(String proto, ResultSet rs) throws SQLException {
        while (rs.next()) {
            Date birthday = rs.getDate(7);
            System.out.println(proto + "\t" + rs.getLong(1) + "\t" + rs.getString(2) + "\t" + rs.getString(3) + "\t"
                    + rs.getString(4) + "\t" + rs.getString(5) + "\t" + rs.getString(6) + "\t" + birthday + "\t" + rs.getString(8));
        }
    }
}
