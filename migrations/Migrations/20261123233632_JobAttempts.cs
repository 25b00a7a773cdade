using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class JobAttempts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_jobs_run_id_variant_machine_id",
                table: "jobs");

            migrationBuilder.AddColumn<int>(
                name: "attempt",
                table: "jobs",
                type: "integer",
                nullable: false,
                // Every job before this migration was a first attempt.
                defaultValue: 1);

            migrationBuilder.CreateIndex(
                name: "ix_jobs_run_id_variant_machine_id_attempt",
                table: "jobs",
                columns: new[] { "run_id", "variant", "machine_id", "attempt" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Without the attempt column, retries would break the old unique index: keep the first attempts only.
            migrationBuilder.Sql("DELETE FROM jobs WHERE attempt > 1");

            migrationBuilder.DropIndex(
                name: "ix_jobs_run_id_variant_machine_id_attempt",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "attempt",
                table: "jobs");

            migrationBuilder.CreateIndex(
                name: "ix_jobs_run_id_variant_machine_id",
                table: "jobs",
                columns: new[] { "run_id", "variant", "machine_id" },
                unique: true);
        }
    }
}
