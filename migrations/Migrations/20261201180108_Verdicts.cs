using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class Verdicts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_runs_repository_id",
                table: "runs");

            migrationBuilder.AddColumn<string>(
                name: "baseline_commit",
                table: "runs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "baseline_reason",
                table: "runs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "boot_count",
                table: "runs",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "judged_at",
                table: "runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "kind",
                table: "runs",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "push");

            // Runs that ended before the judge existed are not judged now: judging them all at once would
            // schedule baseline boots for the whole history.
            migrationBuilder.Sql("UPDATE runs SET judged_at = ended_at WHERE ended_at IS NOT NULL");

            migrationBuilder.AddColumn<Guid>(
                name: "only_machine_id",
                table: "runs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "only_variant",
                table: "runs",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "parent_run_id",
                table: "runs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "bug_id",
                table: "findings",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "signature",
                table: "findings",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "bisections",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    variant = table.Column<string>(type: "text", nullable: false),
                    subject = table.Column<string>(type: "text", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    good_commit = table.Column<string>(type: "text", nullable: false),
                    bad_commit = table.Column<string>(type: "text", nullable: false),
                    commits = table.Column<string>(type: "text", nullable: false),
                    low = table.Column<int>(type: "integer", nullable: false),
                    high = table.Column<int>(type: "integer", nullable: false),
                    step_commit = table.Column<string>(type: "text", nullable: true),
                    step_run_id = table.Column<Guid>(type: "uuid", nullable: true),
                    steps = table.Column<int>(type: "integer", nullable: false),
                    max_steps = table.Column<int>(type: "integer", nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    first_bad_commit = table.Column<string>(type: "text", nullable: true),
                    evidence = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_bisections", x => x.id);
                    table.ForeignKey(
                        name: "fk_bisections_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_bisections_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "bugs",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    repository_id = table.Column<Guid>(type: "uuid", nullable: false),
                    signature = table.Column<string>(type: "text", nullable: false),
                    kind = table.Column<string>(type: "text", nullable: false),
                    title = table.Column<string>(type: "text", nullable: false),
                    first_run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    first_commit = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    first_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    last_run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    last_commit = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    last_seen_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    count = table.Column<int>(type: "integer", nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    fixed_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_bugs", x => x.id);
                    table.ForeignKey(
                        name: "fk_bugs_repositories_repository_id",
                        column: x => x.repository_id,
                        principalTable: "repositories",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "calibrations",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    pipeline_path = table.Column<string>(type: "text", nullable: false),
                    variant = table.Column<string>(type: "text", nullable: false),
                    subject = table.Column<string>(type: "text", nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    verdict = table.Column<string>(type: "text", nullable: false),
                    false_positive = table.Column<bool>(type: "boolean", nullable: false),
                    relative_shift = table.Column<double>(type: "double precision", nullable: false),
                    noise = table.Column<double>(type: "double precision", nullable: false),
                    samples = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_calibrations", x => x.id);
                    table.ForeignKey(
                        name: "fk_calibrations_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_calibrations_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "verdicts",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    variant = table.Column<string>(type: "text", nullable: false),
                    subject = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    name = table.Column<string>(type: "text", nullable: false),
                    verdict = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    baseline_commit = table.Column<string>(type: "text", nullable: true),
                    unit = table.Column<string>(type: "text", nullable: true),
                    better = table.Column<string>(type: "text", nullable: true),
                    baseline_count = table.Column<int>(type: "integer", nullable: false),
                    candidate_count = table.Column<int>(type: "integer", nullable: false),
                    baseline_median = table.Column<double>(type: "double precision", nullable: true),
                    candidate_median = table.Column<double>(type: "double precision", nullable: true),
                    shift = table.Column<double>(type: "double precision", nullable: true),
                    shift_low = table.Column<double>(type: "double precision", nullable: true),
                    shift_high = table.Column<double>(type: "double precision", nullable: true),
                    p = table.Column<double>(type: "double precision", nullable: true),
                    threshold = table.Column<double>(type: "double precision", nullable: true),
                    threshold_source = table.Column<string>(type: "text", nullable: true),
                    rounds = table.Column<int>(type: "integer", nullable: false),
                    detail = table.Column<string>(type: "text", nullable: true),
                    bug_id = table.Column<Guid>(type: "uuid", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_verdicts", x => x.id);
                    table.ForeignKey(
                        name: "fk_verdicts_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_verdicts_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_runs_ended_at",
                table: "runs",
                column: "ended_at",
                filter: "judged_at IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_runs_only_machine_id",
                table: "runs",
                column: "only_machine_id");

            migrationBuilder.CreateIndex(
                name: "ix_runs_parent_run_id",
                table: "runs",
                column: "parent_run_id");

            migrationBuilder.CreateIndex(
                name: "ix_runs_repository_id_commit_pipeline_path",
                table: "runs",
                columns: new[] { "repository_id", "commit", "pipeline_path" });

            migrationBuilder.CreateIndex(
                name: "ix_findings_bug_id",
                table: "findings",
                column: "bug_id");

            migrationBuilder.CreateIndex(
                name: "ix_bisections_machine_id",
                table: "bisections",
                column: "machine_id");

            migrationBuilder.CreateIndex(
                name: "ix_bisections_run_id_machine_id_variant_subject_name",
                table: "bisections",
                columns: new[] { "run_id", "machine_id", "variant", "subject", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_bisections_step_run_id",
                table: "bisections",
                column: "step_run_id");

            migrationBuilder.CreateIndex(
                name: "ix_bugs_repository_id_signature",
                table: "bugs",
                columns: new[] { "repository_id", "signature" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_calibrations_machine_id_pipeline_path_variant_subject_name",
                table: "calibrations",
                columns: new[] { "machine_id", "pipeline_path", "variant", "subject", "name" });

            migrationBuilder.CreateIndex(
                name: "ix_calibrations_run_id_variant_subject_name",
                table: "calibrations",
                columns: new[] { "run_id", "variant", "subject", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_verdicts_machine_id",
                table: "verdicts",
                column: "machine_id");

            migrationBuilder.CreateIndex(
                name: "ix_verdicts_run_id_machine_id_variant_subject_name",
                table: "verdicts",
                columns: new[] { "run_id", "machine_id", "variant", "subject", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_verdicts_verdict_updated_at",
                table: "verdicts",
                columns: new[] { "verdict", "updated_at" });

            migrationBuilder.AddForeignKey(
                name: "fk_findings_bugs_bug_id",
                table: "findings",
                column: "bug_id",
                principalTable: "bugs",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);

            migrationBuilder.AddForeignKey(
                name: "fk_runs_machines_only_machine_id",
                table: "runs",
                column: "only_machine_id",
                principalTable: "machines",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "fk_runs_runs_parent_run_id",
                table: "runs",
                column: "parent_run_id",
                principalTable: "runs",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_findings_bugs_bug_id",
                table: "findings");

            migrationBuilder.DropForeignKey(
                name: "fk_runs_machines_only_machine_id",
                table: "runs");

            migrationBuilder.DropForeignKey(
                name: "fk_runs_runs_parent_run_id",
                table: "runs");

            migrationBuilder.DropTable(
                name: "bisections");

            migrationBuilder.DropTable(
                name: "bugs");

            migrationBuilder.DropTable(
                name: "calibrations");

            migrationBuilder.DropTable(
                name: "verdicts");

            migrationBuilder.DropIndex(
                name: "ix_runs_ended_at",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "ix_runs_only_machine_id",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "ix_runs_parent_run_id",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "ix_runs_repository_id_commit_pipeline_path",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "ix_findings_bug_id",
                table: "findings");

            migrationBuilder.DropColumn(
                name: "baseline_commit",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "baseline_reason",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "boot_count",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "judged_at",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "kind",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "only_machine_id",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "only_variant",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "parent_run_id",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "bug_id",
                table: "findings");

            migrationBuilder.DropColumn(
                name: "signature",
                table: "findings");

            migrationBuilder.CreateIndex(
                name: "ix_runs_repository_id",
                table: "runs",
                column: "repository_id");
        }
    }
}
