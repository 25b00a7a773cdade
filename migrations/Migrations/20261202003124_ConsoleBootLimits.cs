using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class ConsoleBootLimits : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "console_boots",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    boot = table.Column<int>(type: "integer", nullable: false),
                    lines = table.Column<long>(type: "bigint", nullable: false),
                    bytes = table.Column<long>(type: "bigint", nullable: false),
                    dropped = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_console_boots", x => new { x.job_id, x.boot });
                    table.ForeignKey(
                        name: "fk_console_boots_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "console_boots");
        }
    }
}
