\set u random(1, 64)
\set s random(1, 497)
\set k random(1, 4)
\set a random(1, 100)
SELECT stress.act(:u, :s, :k, :a);
