using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class ArtifactsAndProfiles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "artifacts",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    size = table.Column<long>(type: "bigint", nullable: false),
                    sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    content = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_artifacts", x => new { x.job_id, x.name });
                    table.ForeignKey(
                        name: "fk_artifacts_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "profiles",
                columns: table => new
                {
                    boot_id = table.Column<Guid>(type: "uuid", nullable: false),
                    raw = table.Column<string>(type: "text", nullable: false),
                    folded = table.Column<string>(type: "text", nullable: false),
                    samples = table.Column<int>(type: "integer", nullable: false),
                    symbolized = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_profiles", x => x.boot_id);
                    table.ForeignKey(
                        name: "fk_profiles_boots_boot_id",
                        column: x => x.boot_id,
                        principalTable: "boots",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            // Raw profiles move from boots.profile to profiles.raw. Their folded form is left empty: it is
            // computed by the server (ProfileStore), which refolds a job's profiles when its kernel.elf is stored.
            migrationBuilder.Sql("""
                INSERT INTO profiles (boot_id, raw, folded, samples, symbolized)
                SELECT id, profile, '', 0, false FROM boots WHERE profile IS NOT NULL AND profile <> ''
                """);

            migrationBuilder.DropColumn(
                name: "profile",
                table: "boots");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "profile",
                table: "boots",
                type: "text",
                nullable: true);

            migrationBuilder.Sql("UPDATE boots SET profile = p.raw FROM profiles p WHERE p.boot_id = boots.id");

            migrationBuilder.DropTable(
                name: "artifacts");

            migrationBuilder.DropTable(
                name: "profiles");
        }
    }
}
