import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

/**
 * Starts an in-process Neo4j 5.26 Community server (the official test harness) for qualkg's tests.
 *
 * <p>Usage: {@code java -cp lib/launcher:lib/neo4j/* Neo4jLauncher <bolt-port> <workdir>}
 * (tests/servers/fetch.sh compiles it into lib/launcher; port 0 picks any free port).
 * Bolt listens on 127.0.0.1 only, auth is off and the HTTP/HTTPS connectors are disabled, because
 * the tests talk Bolt and nothing else. Once Bolt accepts connections the launcher prints one line
 * {@code READY bolt://127.0.0.1:<port>} on stdout. It shuts the database down cleanly on SIGTERM
 * or when its stdin closes, so a test process that dies without cleaning up does not leak a JVM.
 */
public final class Neo4jLauncher {

    private Neo4jLauncher() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 2) {
            System.err.println("usage: Neo4jLauncher <bolt-port> <workdir>");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path workdir = Files.createDirectories(Path.of(args[1]));

        Neo4j neo4j = Neo4jBuilders.newInProcessBuilder(workdir)
                .withDisabledServer()
                .withConfig(BoltConnector.enabled, true)
                .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .withConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .withConfig(HttpConnector.enabled, false)
                .withConfig(HttpsConnector.enabled, false)
                .withConfig(GraphDatabaseSettings.auth_enabled, false)
                // No usage reports: the machine is offline.
                .withConfig(GraphDatabaseSettings.udc_enabled, false)
                // Netty idles 2 s (at most 15 s) per event loop on shutdown; tests need none.
                .withConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .withConfig(GraphDatabaseInternalSettings.netty_server_shutdown_timeout,
                        Duration.ofSeconds(1))
                // Small page cache: the test graphs are tiny and the machine is shared.
                .withConfig(GraphDatabaseSettings.pagecache_memory, 64L * 1024 * 1024)
                .build();

        // SIGTERM/SIGINT run shutdown hooks; close the database there so its store is left clean.
        Runtime.getRuntime().addShutdownHook(new Thread(neo4j::close, "neo4j-shutdown"));

        System.out.println("READY " + neo4j.boltURI());
        System.out.flush();

        waitForStdinClose(System.in);
        System.exit(0); // runs the shutdown hook above
    }

    /** Blocks until stdin reaches end of file (the parent closed the pipe or exited). */
    private static void waitForStdinClose(InputStream in) throws IOException {
        byte[] buffer = new byte[256];
        while (in.read(buffer) != -1) {
            // Input is ignored; only its end matters.
        }
    }
}
