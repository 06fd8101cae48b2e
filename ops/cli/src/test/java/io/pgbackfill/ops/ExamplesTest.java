package io.pgbackfill.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every example spec passes `spec check --offline`, and every `backfill` command the runbooks name exists. */
class ExamplesTest {

    @Test
    void everyExampleSpecIsValid() throws Exception {
        List<Path> examples;
        try (Stream<Path> s = Files.list(Path.of("../examples"))) {
            examples = s.filter(p -> p.toString().endsWith(".yaml")).toList();
        }
        assertThat(examples).hasSizeGreaterThanOrEqualTo(4);
        for (Path p : examples) {
            CliRun r = CliRun.of("spec", "check", "--offline", p.toString());
            assertThat(r.exitCode()).as(p + ": " + r.output()).isZero();
        }
    }

    @Test
    void aBadSpecFailsWithFileLineAndColumn() throws Exception {
        Path bad = Files.createTempFile("bad", ".yaml");
        Files.writeString(bad, Files.readString(Path.of("../examples/users-split.yaml")).replace("first_name: before(name, ' ')", "first_name: before(name, ' '"));
        CliRun r = CliRun.of("spec", "check", "--offline", bad.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.output()).containsPattern(Pattern.quote(bad.toString()) + ":16:35: column first_name: missing .\\).");
    }

    /** Even without the catalogs, the functions' types are checked: this spec would send every row to the DLQ. */
    @Test
    void aSpecThatWouldFailEveryRowFailsTheCheckWithTheFix() throws Exception {
        Path bad = Files.createTempFile("typed", ".yaml");
        Files.writeString(bad, Files.readString(Path.of("../examples/users-split.yaml")).replace("email: lower(email)", "email: to_double(id) / 100"));
        CliRun r = CliRun.of("spec", "check", "--offline", bad.toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.output()).containsPattern(Pattern.quote(bad.toString()) + ":18:\\d+: column email: cannot / double and int: .*100\\.0");
    }

    @Test
    void everyBackfillCommandInTheRunbooksExists() throws Exception {
        Pattern cmd = Pattern.compile("backfill ([a-z]+)(?: ([a-z]+))?");
        var cli = BackfillCli.commandLine();
        int checked = 0;
        try (Stream<Path> s = Files.list(Path.of("../runbooks"))) {
            for (Path p : s.toList()) {
                Matcher m = cmd.matcher(Files.readString(p));
                while (m.find()) {
                    assertThat(cli.getSubcommands()).as(p + " names `backfill " + m.group(1) + "`").containsKey(m.group(1));
                    checked++;
                }
                Matcher opt = Pattern.compile("backfill cutover SPEC (--[a-z-]+)").matcher(Files.readString(p));
                while (opt.find()) {
                    assertThat(cli.getSubcommands().get("cutover").getCommandSpec().findOption(opt.group(1))).as(opt.group(1)).isNotNull();
                }
            }
        }
        assertThat(checked).isGreaterThan(10);
    }
}
