import java.sql.*;

// PgRead reads through dbfence with the PostgreSQL JDBC driver: a prepared
// statement (extended protocol, server-side after a few executions) and a
// plain statement.
public class PgRead {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0])) {
            try (PreparedStatement ps = c.prepareStatement("SELECT id, name, birthday FROM person WHERE id = ?")) {
                for (int i = 1; i <= 6; i++) {
                    ps.setInt(1, i);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            System.out.println(rs.getLong(1) + "\t" + rs.getString(2) + "\t" + rs.getDate(3));
                        }
                    }
                }
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM person")) {
                rs.next();
                System.out.println("count\t" + rs.getLong(1));
            }
        }
    }
}
