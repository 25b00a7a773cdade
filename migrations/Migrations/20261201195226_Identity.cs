using System;
using System.Collections.Generic;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class Identity : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "pushed_by",
                table: "runs",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "default_branch",
                table: "repositories",
                type: "text",
                nullable: false,
                defaultValue: "main");

            migrationBuilder.AddColumn<string>(
                name: "name",
                table: "repositories",
                type: "character varying(100)",
                maxLength: 100,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<List<string>>(
                name: "pipeline_files",
                table: "repositories",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'");

            migrationBuilder.AddColumn<List<string>>(
                name: "pushers",
                table: "repositories",
                type: "text[]",
                nullable: false,
                defaultValueSql: "'{}'");

            // Repositories that pushes created before registration existed: each gets a unique name, no pipeline
            // files and no pushers, untrusted; nothing can be pushed to them until an admin updates them.
            migrationBuilder.Sql("UPDATE repositories SET name = 'repository-' || id::text WHERE name = ''");

            migrationBuilder.AddColumn<bool>(
                name: "trusted",
                table: "repositories",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateTable(
                name: "users",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    disabled = table.Column<bool>(type: "boolean", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_users", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "api_tokens",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "uuid", nullable: false),
                    user_id = table.Column<Guid>(type: "uuid", nullable: false),
                    label = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    token_hash = table.Column<byte[]>(type: "bytea", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    last_used_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_api_tokens", x => x.id);
                    table.ForeignKey(
                        name: "fk_api_tokens_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_runs_pushed_by",
                table: "runs",
                column: "pushed_by");

            migrationBuilder.CreateIndex(
                name: "ix_repositories_name",
                table: "repositories",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_token_hash",
                table: "api_tokens",
                column: "token_hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_user_id",
                table: "api_tokens",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "ix_users_name",
                table: "users",
                column: "name",
                unique: true);

            migrationBuilder.AddForeignKey(
                name: "fk_runs_users_pushed_by",
                table: "runs",
                column: "pushed_by",
                principalTable: "users",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_runs_users_pushed_by",
                table: "runs");

            migrationBuilder.DropTable(
                name: "api_tokens");

            migrationBuilder.DropTable(
                name: "users");

            migrationBuilder.DropIndex(
                name: "ix_runs_pushed_by",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "ix_repositories_name",
                table: "repositories");

            migrationBuilder.DropColumn(
                name: "pushed_by",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "default_branch",
                table: "repositories");

            migrationBuilder.DropColumn(
                name: "name",
                table: "repositories");

            migrationBuilder.DropColumn(
                name: "pipeline_files",
                table: "repositories");

            migrationBuilder.DropColumn(
                name: "pushers",
                table: "repositories");

            migrationBuilder.DropColumn(
                name: "trusted",
                table: "repositories");
        }
    }
}
