using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Redox.Lab.Server.Data;

#nullable disable

namespace Redox.Lab.Migrations.Migrations
{
    /// <summary>
    /// Console storage (lab-server/ConsoleStorage/STORAGE.md): console_lines becomes partitioned by RANGE (job_id)
    /// (monthly UUIDv7 ranges and a default partition), console_chunks (compressed chunks, partitioned the same way)
    /// and retention_prunes are added. Raw SQL: EF Core does not model partitioning; the model is unchanged (the
    /// chunk and prune tables are read and written with hand-written SQL), so this migration has no designer model.
    /// </summary>
    [DbContext(typeof(LabDbContext))]
    [Migration("20261201213000_ConsoleRetention")]
    public partial class ConsoleRetention : Migration
    {
        /// <summary>Creates each console table's monthly partitions from the oldest job's month to two months ahead.</summary>
        private const string MonthlyPartitions = """
            DO $$
            DECLARE
                m timestamp := date_trunc('month', least(coalesce((SELECT min(created_at) FROM jobs), now()), now()) AT TIME ZONE 'UTC');
                last timestamp := date_trunc('month', now() AT TIME ZONE 'UTC') + interval '2 months';
                lo text; hi text; t text;
            BEGIN
                WHILE m <= last LOOP
                    lo := lpad(to_hex((extract(epoch FROM m) * 1000)::bigint), 12, '0');
                    hi := lpad(to_hex((extract(epoch FROM m + interval '1 month') * 1000)::bigint), 12, '0');
                    FOREACH t IN ARRAY ARRAY['console_lines', 'console_chunks'] LOOP
                        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                            t || '_y' || to_char(m, 'YYYY') || 'm' || to_char(m, 'MM'), t,
                            substr(lo, 1, 8) || '-' || substr(lo, 9, 4) || '-0000-0000-000000000000',
                            substr(hi, 1, 8) || '-' || substr(hi, 9, 4) || '-0000-0000-000000000000');
                    END LOOP;
                    m := m + interval '1 month';
                END LOOP;
            END $$;
            """;

        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                ALTER TABLE console_lines RENAME TO console_lines_unpartitioned;
                ALTER TABLE console_lines_unpartitioned RENAME CONSTRAINT pk_console_lines TO pk_console_lines_unpartitioned;
                ALTER TABLE console_lines_unpartitioned RENAME CONSTRAINT fk_console_lines_jobs_job_id TO fk_console_lines_unpartitioned_jobs_job_id;

                CREATE TABLE console_lines (
                    job_id uuid NOT NULL,
                    line_no bigint NOT NULL,
                    boot integer NOT NULL,
                    host_time timestamp with time zone NOT NULL,
                    text text NOT NULL,
                    CONSTRAINT pk_console_lines PRIMARY KEY (job_id, line_no),
                    CONSTRAINT fk_console_lines_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
                ) PARTITION BY RANGE (job_id);
                CREATE TABLE console_lines_default PARTITION OF console_lines DEFAULT;

                CREATE TABLE console_chunks (
                    job_id uuid NOT NULL,
                    first_line bigint NOT NULL,
                    line_count integer NOT NULL,
                    min_boot integer NOT NULL,
                    max_boot integer NOT NULL,
                    raw_bytes integer NOT NULL,
                    data bytea NOT NULL,
                    CONSTRAINT pk_console_chunks PRIMARY KEY (job_id, first_line),
                    CONSTRAINT fk_console_chunks_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
                ) PARTITION BY RANGE (job_id);
                CREATE TABLE console_chunks_default PARTITION OF console_chunks DEFAULT;
                """);
            migrationBuilder.Sql(MonthlyPartitions);
            migrationBuilder.Sql("""
                INSERT INTO console_lines (job_id, line_no, boot, host_time, text)
                SELECT job_id, line_no, boot, host_time, text FROM console_lines_unpartitioned;
                DROP TABLE console_lines_unpartitioned;

                CREATE TABLE retention_prunes (
                    job_id uuid NOT NULL,
                    console_pruned_at timestamp with time zone NULL,
                    artifacts_pruned_at timestamp with time zone NULL,
                    CONSTRAINT pk_retention_prunes PRIMARY KEY (job_id),
                    CONSTRAINT fk_retention_prunes_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
                );
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Compressed chunks cannot be unpacked in SQL: going back would lose those lines, so it is refused.
            migrationBuilder.Sql("""
                DO $$ BEGIN
                    IF EXISTS (SELECT 1 FROM console_chunks) THEN
                        RAISE EXCEPTION 'console_chunks holds compressed console lines; going below ConsoleRetention would lose them';
                    END IF;
                END $$;
                DROP TABLE retention_prunes;
                DROP TABLE console_chunks;
                CREATE TABLE console_lines_unpartitioned (LIKE console_lines INCLUDING ALL);
                INSERT INTO console_lines_unpartitioned SELECT * FROM console_lines;
                DROP TABLE console_lines;
                ALTER TABLE console_lines_unpartitioned RENAME TO console_lines;
                ALTER TABLE console_lines ADD CONSTRAINT fk_console_lines_jobs_job_id FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE;
                """);
        }
    }
}
