\set u random(1, 32)
\set e random(1, 2)
\set s random(1, 99)
\set k random(1, 2)
\set a random(1, 100)
SELECT stress.step(:u, :e, :s, :k, :a);
