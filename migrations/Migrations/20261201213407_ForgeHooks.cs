using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class ForgeHooks : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "commit_statuses",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    run_id = table.Column<Guid>(type: "uuid", nullable: false),
                    repository_id = table.Column<Guid>(type: "uuid", nullable: false),
                    commit = table.Column<string>(type: "text", nullable: false),
                    context = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: false),
                    phase = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    description = table.Column<string>(type: "text", nullable: false),
                    target_url = table.Column<string>(type: "text", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    posted_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    superseded = table.Column<bool>(type: "boolean", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    last_error = table.Column<string>(type: "text", nullable: true),
                    hangfire_job_id = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_commit_statuses", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "hook_deliveries",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    repository_id = table.Column<Guid>(type: "uuid", nullable: false),
                    forge = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    delivery_id = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    @event = table.Column<string>(name: "event", type: "character varying(100)", maxLength: 100, nullable: false),
                    result = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    detail = table.Column<string>(type: "text", nullable: false),
                    runs = table.Column<List<Guid>>(type: "uuid[]", nullable: false),
                    received_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_hook_deliveries", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "repository_hooks",
                columns: table => new
                {
                    repository_id = table.Column<Guid>(type: "uuid", nullable: false),
                    forge = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    project = table.Column<string>(type: "character varying(300)", maxLength: 300, nullable: true),
                    pipelines = table.Column<List<string>>(type: "text[]", nullable: false),
                    branches = table.Column<List<string>>(type: "text[]", nullable: false),
                    secret = table.Column<string>(type: "text", nullable: false),
                    status_api = table.Column<string>(type: "character varying(500)", maxLength: 500, nullable: true),
                    status_forge = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    status_token = table.Column<string>(type: "text", nullable: true),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_repository_hooks", x => x.repository_id);
                    table.ForeignKey(
                        name: "fk_repository_hooks_repositories_repository_id",
                        column: x => x.repository_id,
                        principalTable: "repositories",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_commit_statuses_job_id_phase",
                table: "commit_statuses",
                columns: new[] { "job_id", "phase" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_commit_statuses_run_id",
                table: "commit_statuses",
                column: "run_id");

            migrationBuilder.CreateIndex(
                name: "ix_hook_deliveries_received_at",
                table: "hook_deliveries",
                column: "received_at");

            migrationBuilder.CreateIndex(
                name: "ix_hook_deliveries_repository_id_forge_delivery_id",
                table: "hook_deliveries",
                columns: new[] { "repository_id", "forge", "delivery_id" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "commit_statuses");

            migrationBuilder.DropTable(
                name: "hook_deliveries");

            migrationBuilder.DropTable(
                name: "repository_hooks");
        }
    }
}
