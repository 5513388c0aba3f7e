-- Open (triggered or acknowledged) alerts per team, kept by the alerts projection: the open-alert quota reads one
-- row instead of counting a team's alerts on every trigger.
create table team_open_alerts (
  team_id uuid primary key,
  open_alerts integer not null
);
insert into team_open_alerts (team_id, open_alerts)
select team_id, count(*) from alerts where status in ('triggered', 'acknowledged') group by team_id;
