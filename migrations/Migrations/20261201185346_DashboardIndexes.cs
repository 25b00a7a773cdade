using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class DashboardIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_jobs_machine_id",
                table: "jobs");

            migrationBuilder.CreateIndex(
                name: "ix_runs_pipeline_path_branch_created_at",
                table: "runs",
                columns: new[] { "pipeline_path", "branch", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_runs_repository_id_branch_created_at",
                table: "runs",
                columns: new[] { "repository_id", "branch", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_machine_id_created_at",
                table: "jobs",
                columns: new[] { "machine_id", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_runs_pipeline_path_branch_created_at",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "ix_runs_repository_id_branch_created_at",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "ix_jobs_machine_id_created_at",
                table: "jobs");

            migrationBuilder.CreateIndex(
                name: "ix_jobs_machine_id",
                table: "jobs",
                column: "machine_id");
        }
    }
}
