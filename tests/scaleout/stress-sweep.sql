SELECT evently.expire_holds();
\sleep 1 s
