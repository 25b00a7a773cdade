using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class MachineHealth : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "drifted",
                table: "machines",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "fingerprint",
                table: "machines",
                type: "jsonb",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "health",
                table: "machines",
                type: "text",
                nullable: false,
                defaultValue: "unknown");

            migrationBuilder.AddColumn<bool>(
                name: "health_check_requested",
                table: "machines",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "health_reason",
                table: "machines",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "health_since",
                table: "machines",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "machine_health_events",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    machine_id = table.Column<Guid>(type: "uuid", nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    health = table.Column<string>(type: "text", nullable: false),
                    reason = table.Column<string>(type: "text", nullable: false),
                    source = table.Column<string>(type: "text", nullable: false),
                    reference_ms = table.Column<double>(type: "double precision", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_machine_health_events", x => x.id);
                    table.ForeignKey(
                        name: "fk_machine_health_events_machines_machine_id",
                        column: x => x.machine_id,
                        principalTable: "machines",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_machine_health_events_machine_id_at",
                table: "machine_health_events",
                columns: new[] { "machine_id", "at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "machine_health_events");

            migrationBuilder.DropColumn(
                name: "drifted",
                table: "machines");

            migrationBuilder.DropColumn(
                name: "fingerprint",
                table: "machines");

            migrationBuilder.DropColumn(
                name: "health",
                table: "machines");

            migrationBuilder.DropColumn(
                name: "health_check_requested",
                table: "machines");

            migrationBuilder.DropColumn(
                name: "health_reason",
                table: "machines");

            migrationBuilder.DropColumn(
                name: "health_since",
                table: "machines");
        }
    }
}
