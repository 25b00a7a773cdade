using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <inheritdoc />
    public partial class BugFixedCommit : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "fixed_commit",
                table: "bugs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "fixed_commit",
                table: "bugs");
        }
    }
}
