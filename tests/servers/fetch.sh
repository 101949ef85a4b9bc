#!/usr/bin/env bash
# Fetch the real servers that qualkg's tests start, into tests/servers/lib/ (git-ignored):
#   lib/neo4j/               Neo4j 5.26 Community test harness + runtime jars (version: pom.xml)
#   lib/launcher/            Neo4jLauncher.class, compiled against lib/neo4j
#   lib/fuseki/              Apache Jena Fuseki server jar
# Maven caches the downloads in ~/.m2 as usual. Idempotent and silent when all is present;
# re-fetches Neo4j when pom.xml changes and recompiles the launcher when its source changes.
set -euo pipefail

FUSEKI_VERSION=5.6.0

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lib="$here/lib"
neo4j_dir="$lib/neo4j"
neo4j_done="$neo4j_dir/.complete" # written only after every jar was copied
launcher_dir="$lib/launcher"
fuseki_jar="$lib/fuseki/jena-fuseki-server-$FUSEKI_VERSION.jar"
mvn_log="$lib/fetch-maven.log"

mkdir -p "$lib"
# Parallel test workers may call this at once: one fetches, the others wait and then find it done.
exec 9>"$lib/.fetch.lock"
flock 9

die() {
    echo "tests/servers/fetch.sh: $*" >&2
    exit 1
}

# Run a Maven command, retrying with backoff because the registry throttles bursts.
# Its output goes to $mvn_log; on the last failure the log's tail is shown.
mvn_retry() {
    local attempt delay=5
    for attempt in 1 2 3 4; do
        if mvn -q -B -f "$here/pom.xml" "$@" >"$mvn_log" 2>&1; then
            return 0
        fi
        if [[ $attempt -lt 4 ]]; then
            echo "fetch.sh: Maven attempt $attempt failed, retrying in ${delay}s" >&2
            sleep "$delay"
            delay=$((delay * 2))
        fi
    done
    tail -n 30 "$mvn_log" >&2
    return 1
}

command -v mvn >/dev/null || die "mvn not found on PATH (needs Maven and a Java 17 JDK)"
command -v javac >/dev/null || die "javac not found on PATH (needs a Java 17 JDK)"

if [[ ! -f $neo4j_done || $here/pom.xml -nt $neo4j_done ]]; then
    rm -rf "$neo4j_dir" "$launcher_dir"
    mvn_retry dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$neo4j_dir" ||
        die "could not fetch the Neo4j harness and its dependencies (see $mvn_log)"
    touch "$neo4j_done"
    harness="$(cd "$neo4j_dir" && ls neo4j-harness-*.jar)"
    jars="$(find "$neo4j_dir" -name '*.jar' | wc -l)"
    echo "fetched ${harness%.jar} and its dependencies ($jars jars) into $neo4j_dir"
fi

launcher_class="$launcher_dir/Neo4jLauncher.class"
if [[ ! -f $launcher_class || $here/Neo4jLauncher.java -nt $launcher_class ]]; then
    rm -rf "$launcher_dir"
    javac -d "$launcher_dir" -cp "$neo4j_dir/*" "$here/Neo4jLauncher.java" ||
        die "could not compile Neo4jLauncher.java against $neo4j_dir"
    echo "compiled Neo4jLauncher into $launcher_dir"
fi

if [[ ! -f $fuseki_jar ]]; then
    mvn_retry dependency:copy -Dartifact="org.apache.jena:jena-fuseki-server:$FUSEKI_VERSION" \
        -DoutputDirectory="$lib/fuseki" ||
        die "could not fetch jena-fuseki-server $FUSEKI_VERSION (see $mvn_log)"
    echo "fetched jena-fuseki-server-$FUSEKI_VERSION into $lib/fuseki"
fi
